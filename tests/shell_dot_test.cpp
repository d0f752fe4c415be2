// The netsql shell's dot commands, its sqlite3-style command line and
// scripts: golden output and error texts, sqlite3 as the oracle where
// netsql does what sqlite3 does (.dump, .changes, script errors).
#include <unistd.h>

#include <fstream>
#include <regex>
#include <string>

#include "support.h"

namespace netsql::test {
namespace {



// A private directory, removed with its files at the end of the test.
TEST(DotCommands, OutputSendsResultsToAFileUntilOutputAlone) {
  TempDir d;
  Ran r = netsql("", ".output " + d / "o.csv" + "\nSELECT 1 AS a;\nSELECT 2 AS b;\n.output\nSELECT 3 AS c;\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(slurp(d / "o.csv"), "a\r\n1\r\nb\r\n2\r\n");
  EXPECT_EQ(r.out, "c\r\n3\r\n");
  r = netsql("", ".output /nonexistent/dir/x\nSELECT 1 AS a;\n");
  EXPECT_EQ(r.err, "Error: cannot open \"/nonexistent/dir/x\"\n");
  EXPECT_EQ(r.out, "a\r\n1\r\n");
  EXPECT_EQ(r.status, 1);
}

TEST(DotCommands, OnceSendsOnlyTheNextStatement) {
  TempDir d;
  Ran r = netsql("", ".once " + d / "one" + "\nSELECT 1 AS a;\nSELECT 2 AS b;\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(slurp(d / "one"), "a\r\n1\r\n");
  EXPECT_EQ(r.out, "b\r\n2\r\n");
  EXPECT_EQ(netsql("", ".once\n").err, "Error: usage: .once FILE\n");
}

TEST(DotCommands, OpenReplacesTheDatabaseAndKeepsTheNetsqlTables) {
  TempDir d;
  sh("sqlite3 " + d / "h.db" + " \"CREATE TABLE snap(name TEXT); INSERT INTO snap VALUES ('lo')\"");
  Ran r = netsql("", ".open " + d / "h.db" + "\n.tables\nSELECT name FROM snap;\nSELECT count(*) > 0 AS up FROM interfaces;\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\nsnap\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("name\r\nlo\r\nup\r\n1\r\n"), std::string::npos) << r.out;
  r = netsql("", ".open /nonexistent/dir/x.db\nSELECT 1 AS still;\n");
  EXPECT_EQ(r.err, "Error: cannot open /nonexistent/dir/x.db: unable to open database file\n");
  EXPECT_EQ(r.out, "still\r\n1\r\n");
}

TEST(DotCommands, LoadReportsWhatTheLoaderSays) {
  Ran r = netsql("", ".load /nonexistent/ext\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Error: /nonexistent/ext"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot open shared object file"), std::string::npos) << r.err;
  EXPECT_EQ(netsql("", ".load\n").err, "Error: usage: .load PATH [ENTRY]\n");
  // An extension that loads: the one this build made (its tables are
  // already built in; loading it again registers nothing new).
  r = netsql("", std::string(".load ") + NETSQL_EXTENSION_PATH + "\nSELECT 1 AS ok;\n");
  EXPECT_EQ(r.out, "ok\r\n1\r\n") << r.err;
}

TEST(DotCommands, ImportCreatesTheTableFromTheHeaderAndWarnsLikeSqlite3) {
  TempDir d;
  std::string csv = d / "d.csv";
  sh("printf 'a,b\\n1,\"x,y\"\\n2,\"multi\\nline\"\\n3\\n4,5,6\\n5,\"say \"\"hi\"\"\"\\r\\n' > " + csv);
  Ran r = netsql("-m quote", ".import " + csv + " t\nSELECT * FROM t;\n.import " + csv + " t\nSELECT count(*) FROM t;\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "'a','b'\n'1','x,y'\n'2','multi\nline'\n'3',NULL\n'4','5'\n'5','say \"hi\"'\n"
            "'count(*)'\n11\n");
  std::string warnings = csv + ":5: expected 2 columns but found 1 - filling the rest with NULL\n" + csv +
                         ":6: expected 2 columns but found 3 - extras ignored\n";
  EXPECT_EQ(r.err, warnings + warnings);  // the second time the header is a row
  r = netsql("", ".import /nonexistent.csv t\n.import " + csv + "\n");
  EXPECT_EQ(r.err, "Error: cannot open \"/nonexistent.csv\"\nError: usage: .import FILE TABLE\n");
  EXPECT_EQ(r.status, 1);
  // The same table and rows sqlite3's .import makes.
  if (!have_sqlite3()) return;
  sh("sqlite3 " + d / "s.db" + " -cmd '.mode csv' '.import " + csv + " t' 2>/dev/null");
  sh(std::string(NETSQL_SHELL_PATH) + " --db " + d / "n.db" + " '.import " + csv + " t' 2>/dev/null");
  EXPECT_EQ(run("sqlite3 " + d / "n.db" + " .dump"), run("sqlite3 " + d / "s.db" + " .dump"));
}

TEST(DotCommands, DumpWritesWhatSqlite3Writes) {
  if (!have_sqlite3()) GTEST_SKIP() << "no sqlite3 shell to compare with";
  TempDir d;
  std::string db = d / "h.db";
  sh("sqlite3 " + db + " \"CREATE TABLE \\\"my t\\\"(a, \\\"b c\\\" text); "
     "INSERT INTO \\\"my t\\\" VALUES (1, x'01'), (2.5, 'it''s' || char(10) || 'two'), (NULL, 3.0);"
     "CREATE TABLE u(x INTEGER PRIMARY KEY); INSERT INTO u VALUES (7); CREATE INDEX i ON \\\"my t\\\"(a);"
     "CREATE VIEW v AS SELECT 1;\"");
  for (std::string args : {".dump", "'.dump u'", "'.dump nothing'"}) {
    Ran ours = netsql("--db " + db + " " + args);
    EXPECT_EQ(ours.status, 0) << ours.err;
    EXPECT_EQ(ours.out, run("sqlite3 " + db + " " + args)) << args;
  }
}

TEST(DotCommands, ChangesCountsAsSqlite3Does) {
  if (!have_sqlite3()) GTEST_SKIP() << "no sqlite3 shell to compare with";
  std::string script = ".changes on\nCREATE TEMP TABLE t(a);\nINSERT INTO t VALUES (1), (2);\nSELECT a FROM t;\nUPDATE t SET a = 3;\n";
  Ran ours = netsql("-m list --no-header", script);
  EXPECT_EQ(ours.out, run_captured("sqlite3", script).out);
  EXPECT_EQ(ours.out, "changes: 0   total_changes: 0\nchanges: 2   total_changes: 2\n1\n2\n"
                      "changes: 2   total_changes: 2\nchanges: 2   total_changes: 4\n");
}

TEST(DotCommands, EqpShowsThePlanWithTheKernelFilterInWords) {
  Ran r = netsql("-m list", ".eqp on\nSELECT count(*) AS n FROM tcp_sockets WHERE state = 'LISTEN' AND local_port IN (1, 2);\n"
                            ".eqp off\nSELECT 1 AS one;\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "QUERY PLAN\n"
            "`--SCAN tcp_sockets (kernel filter: state = ?, local_port IN (...))\n"
            "n\n0\none\n1\n");
  // A plan with branches drawn as sqlite3 draws it.
  std::string script = ".eqp on\nSELECT * FROM (SELECT 1 UNION SELECT 2) ORDER BY 1;\n";
  r = netsql("-m list --no-header", script);
  EXPECT_NE(r.out.find("|  `--COMPOUND QUERY\n|     |--LEFT-MOST SUBQUERY\n"), std::string::npos) << r.out;
  if (have_sqlite3()) {
    EXPECT_EQ(r.out, run_captured("sqlite3", script).out);
  }
  EXPECT_EQ(netsql("", ".eqp maybe\n").err, "Error: usage: .eqp on|off\n");
}

TEST(DotCommands, WidthTakesWholeNumbersInRange) {
  EXPECT_EQ(netsql("-m column", ".width 5 -4\nSELECT 1 AS a, 2 AS b;\n").out, "a         b\n-----  ----\n1         2\n");
  for (std::string bad : {"x", "1.5", "1001", "-1001", "99999999999999999999"}) {
    Ran r = netsql("", ".width 3 " + bad + "\n");
    EXPECT_EQ(r.err, "Error: \"" + bad + "\" is not a width: .width takes whole numbers from -1000 to 1000\n") << bad;
    EXPECT_EQ(r.status, 1);
  }
}

TEST(DotCommands, ExitLeavesWithItsCodeAndBailStopsAScript) {
  Ran r = netsql("", "SELECT 1 AS a;\n.exit 3\nSELECT 2;\n");
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.out, "a\r\n1\r\n");
  EXPECT_EQ(netsql("", ".exit\n").status, 0);
  r = netsql("", ".exit 256\n");
  EXPECT_EQ(r.err, "Error: \"256\" is not an exit code: .exit takes a whole number from 0 to 255\n");
  // Without .bail the script goes on after an error; with it, it stops.
  r = netsql("", "SELEC 1;\nSELECT 2 AS b;\n");
  EXPECT_EQ(r.out, "b\r\n2\r\n");
  EXPECT_EQ(r.status, 1);
  r = netsql("", ".bail on\nSELEC 1;\nSELECT 2 AS b;\n");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(netsql("", ".bail\n").err, "Error: usage: .bail on|off\n");
}

// A script that reads itself stops at sqlite3's nesting limit with an
// error, instead of recursing until fds or the stack run out.
TEST(DotCommands, ReadStopsAtTheNestingLimit) {
  const std::string self = temp_file("");
  std::ofstream(self) << "SELECT 1 AS one;\n.read " << self << "\n";
  Ran r = netsql("", ".read " + self + "\n");
  EXPECT_NE(r.err.find(".read: input nesting limit (25) reached"), std::string::npos) << r.err;
  size_t ones = 0;
  for (size_t at = 0; (at = r.out.find("one\r\n1\r\n", at)) != std::string::npos; ++at) ++ones;
  EXPECT_EQ(ones, 25u);
  EXPECT_EQ(r.status, 1);
  unlink(self.c_str());
}

TEST(DotCommands, ShowHelpAndUnknownCommands) {
  Ran r = netsql("-m box", ".mode insert x\n.width 2 -3\n.headers off\n.show\n");
  EXPECT_EQ(r.out,
            "        bail: off\n     changes: off\n         eqp: off\n     headers: off\n        mode: insert x\n"
            "      output: stdout\n       timer: off\n       width: 2 -3 \n    filename: :memory:\n");
  r = netsql("", ".help\n");
  r.out = "\n" + r.out;
  for (std::string line : {".bail on|off", ".dump [TABLE]", ".import FILE TABLE", ".once FILE", ".output [FILE]", ".width N..."})
    EXPECT_NE(r.out.find("\n" + line + " "), std::string::npos) << line;
  r = netsql("", ".nope\n");
  EXPECT_EQ(r.err, "Error: unknown command .nope (try .help)\n");
  EXPECT_EQ(r.status, 1);
}

// Each usage error is the command's synopsis from the command table (the
// one .help prints), for too many words as for too few or a wrong one.
TEST(DotCommands, UsageErrorsComeFromTheCommandTable) {
  for (const auto& [line, want] : std::vector<std::pair<std::string, std::string>>{
           {".help x", "usage: .help"},
           {".quit now", "usage: .quit"},
           {".show all", "usage: .show"},
           {".schema a b", "usage: .schema [TABLE]"},
           {".tables a b", "usage: .tables [PATTERN]"},
           {".headers maybe", "usage: .headers on|off"},
           {".headers", "usage: .headers on|off"},
           {".read", "usage: .read FILE"},
           {".read a b", "usage: .read FILE"},
           {".output a b", "usage: .output [FILE]"},
           {".open", "usage: .open FILE"},
           {".import x.csv", "usage: .import FILE TABLE"},
           {".dump a b", "usage: .dump [TABLE]"},
           {".exit 1 2", "usage: .exit [CODE]"},
           {".mode", "usage: .mode MODE [TABLE] (MODE: table|csv|tsv|json|jsonl|line|markdown|box|column|list|quote|insert|html)"},
           {".schema nosuch", "no such table: nosuch"},
       }) {
    Ran r = netsql("", line + "\nSELECT 1 AS after;\n");
    EXPECT_EQ(r.err, "Error: " + want + "\n") << line;
    EXPECT_EQ(r.out, "after\r\n1\r\n") << line;  // the script goes on, and .quit now did not quit
    EXPECT_EQ(r.status, 1) << line;
  }
}

// As sqlite3's .tables PATTERN: the names LIKE the pattern, case aside.
TEST(DotCommands, TablesFiltersByLikePattern) {
  Ran r = netsql("", "CREATE TEMP TABLE tcp_notes(x);\n.tables tcp%\n.tables TCP_SOCK%\n.tables nothing%\n");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "tcp_sockets\ntcp_notes\ntcp_sockets\n");
  EXPECT_NE(netsql("", ".tables\n").out.find("udp_sockets\n"), std::string::npos);
}

// .timer on: a line per statement on stderr in this format (the time itself
// is not checked).
TEST(DotCommands, TimerWritesOneLinePerStatement) {
  Ran r = netsql("", ".timer on\nSELECT 1 AS a UNION ALL SELECT 2;\n.timer off\nSELECT 3 AS b;\n");
  EXPECT_EQ(r.out, "a\r\n1\r\n2\r\nb\r\n3\r\n");
  EXPECT_TRUE(std::regex_match(r.err, std::regex(R"(Run Time: [0-9.e+-]+ ms \(2 rows\)\n)"))) << r.err;
  EXPECT_EQ(netsql("", ".timer\n").err, "Error: usage: .timer on|off\n");
}

TEST(Scripts, ErrorsNameTheirLineAsSqlite3Does) {
  std::string script = "SELECT 1;\n\nSELEC 2;\nSELECT\n  abs(-9223372036854775807 - 1);\nSELECT 3; SELEC 4;\n";
  Ran r = netsql("-m list --no-header", script);
  EXPECT_EQ(r.out, "1\n3\n");
  EXPECT_EQ(r.err,
            "Parse error near line 3: near \"SELEC\": syntax error\n"
            "Runtime error near line 4: integer overflow\n"
            "Parse error near line 6: near \"SELEC\": syntax error\n");
  EXPECT_EQ(r.status, 1);
  if (have_sqlite3()) {
    // sqlite3 also shows the statement under its first line: the first lines agree.
    Ran theirs = run_captured("sqlite3", script);
    EXPECT_EQ(theirs.out, r.out);
    EXPECT_EQ(theirs.err.substr(0, theirs.err.find('\n')), "Parse error near line 3: near \"SELEC\": syntax error");
  }
  r = netsql("-bail -m list", script);
  EXPECT_EQ(r.out, "1\n1\n");
  EXPECT_EQ(r.status, 1);
}

TEST(CommandLine, SqliteStyleOptions) {
  EXPECT_EQ(netsql("-json \"SELECT 1 AS a\"").out, "[\n{\"a\":1}\n]\n");
  EXPECT_EQ(netsql("--format=jsonl \"SELECT 1 AS a\"").out, "{\"a\":1}\n");
  EXPECT_EQ(netsql("-list -noheader \"SELECT 1, 2\"").out, "1|2\n");
  EXPECT_EQ(netsql("-csv -header \"SELECT 1 AS a\"").out, "a\r\n1\r\n");
  EXPECT_EQ(netsql("-html \"SELECT 1 AS a\"").out, "<TR><TH>a</TH>\n</TR>\n<TR><TD>1</TD>\n</TR>\n");
  EXPECT_EQ(netsql("-cmd \".mode list\" -cmd \"CREATE TEMP TABLE t(x)\" \"SELECT count(*) AS n FROM t\"").out, "n\n0\n");
  Ran r = netsql("--version");
  EXPECT_EQ(r.out.rfind("netsql ", 0), 0u);
  r = netsql("-cmd");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "netsql: option '-cmd' needs a value");
  r = netsql("-bogus");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "netsql: unknown option '-bogus'");
  // -batch: standard input is the script.
  EXPECT_EQ(netsql("-batch -m list", "SELECT 5;\n").out, "5\n5\n");
}

TEST(CommandLine, RcFileRunsFirstUnlessInitNamesAnother) {
  TempDir d;
  sh("printf '.mode list\\n.headers off\\n' > " + d / ".netsqlrc");
  std::string home = "env HOME=" + d.path + " ";
  Ran r = run_captured(home + NETSQL_SHELL_PATH + " \"SELECT 1, 2\"");
  EXPECT_EQ(r.out, "1|2\n") << r.err;
  // The command line wins over the rc file.
  EXPECT_EQ(run_captured(home + NETSQL_SHELL_PATH + " -csv \"SELECT 1, 2\"").out, "1,2\r\n");
  std::string init = temp_file(".mode quote\n");
  EXPECT_EQ(run_captured(home + NETSQL_SHELL_PATH + " -init " + init + " \"SELECT 'x' AS s\"").out, "'s'\n'x'\n");
  unlink(init.c_str());
  r = netsql("-init /nonexistent/rc \"SELECT 1\"");
  EXPECT_EQ(r.err, "Error: cannot open /nonexistent/rc: No such file or directory\n");
  EXPECT_EQ(r.status, 1);
}

}  // namespace
}  // namespace netsql::test
