// The netsql shell's sqlite3 output modes (box, column, list, quote,
// insert, html), with the stock sqlite3 shell as the oracle: the same
// table, the same settings, byte for byte. Where netsql differs on purpose
// (a BLOB is hex in text modes) the test says so with a golden.
#include <nlohmann/json.hpp>

#include <string>

#include "support.h"

namespace netsql::test {
namespace {


Ran sqlite3(const std::string& settings, const std::string& sql) { return run_captured("sqlite3 " + settings + " :memory: " + sql); }


// NULLs, integers (one past 32 bits), reals (integral, tiny, huge),
// text with quotes, a newline, a CR LF, a tab, HTML's specials, UTF-8.
const std::string kTable =
    "\"CREATE TEMP TABLE t(i INTEGER, r REAL, s TEXT, n);"
    "INSERT INTO t VALUES (1, 2.5, 'plain', NULL), (-42, 3.0, 'it''s \\\"quoted\\\"', 'x'),"
    "(NULL, 0.1, 'two' || char(10) || 'lines', 7), (9000000000, 1e300, 'tab' || char(9) || 'bed <&>', ''),"
    "(0, -0.5, 'héllo ✓', 'cr' || char(13) || char(10) || 'lf');"
    "SELECT * FROM t;\"";

void expect_same(const std::string& settings, const std::string& sql) {
  Ran ours = netsql(settings + " " + sql);
  Ran theirs = sqlite3(settings, sql);
  EXPECT_EQ(ours.status, 0) << settings << "\n" << ours.err;
  EXPECT_EQ(theirs.status, 0) << settings << "\n" << theirs.err;
  EXPECT_EQ(ours.out, theirs.out) << settings;
  EXPECT_NE(ours.out, "") << settings;
}

TEST(ShellModes, EveryModeWritesWhatSqlite3Writes) {
  if (!have_sqlite3()) GTEST_SKIP() << "no sqlite3 shell to compare with";
  for (std::string mode : {"box", "column", "list", "quote", "insert", "insert tbl", "insert \\\"my t\\\"", "html"})
    for (std::string header : {"-header", "-noheader"}) expect_same(header + " -cmd \".mode " + mode + "\"", kTable);
}

TEST(ShellModes, WidthsWrapAndAlignAsSqlite3Does) {
  if (!have_sqlite3()) GTEST_SKIP() << "no sqlite3 shell to compare with";
  for (std::string mode : {"box", "column"})
    expect_same("-cmd \".mode " + mode + "\" -cmd \".width 3 -8 4\"", kTable);
}

TEST(ShellModes, BlobsAreLiteralsInQuoteAndInsert) {
  if (!have_sqlite3()) GTEST_SKIP() << "no sqlite3 shell to compare with";
  const std::string sql = "\"SELECT x'00ff41' AS b, x'' AS e, 1e999 AS inf, -1e999 AS ninf\"";
  for (std::string mode : {"quote", "insert"}) expect_same("-header -cmd \".mode " + mode + "\"", sql);
}

TEST(ShellModes, AnEmptyResultWritesNothingAsInSqlite3) {
  for (std::string mode : {"box", "column", "list", "quote", "insert", "html"}) {
    Ran r = netsql("-m " + mode + " \"SELECT 1 AS a WHERE 0\"");
    EXPECT_EQ(r.status, 0) << mode << r.err;
    EXPECT_EQ(r.out, "") << mode;
  }
}

TEST(ShellModes, BoxGoldenWithABlobInHex) {
  // sqlite3 writes a BLOB's raw bytes here; netsql writes hex, so that the
  // output stays text (README: output formats).
  EXPECT_EQ(netsql("-m box \"SELECT 1 AS n, x'00ff' AS b, NULL AS z UNION ALL SELECT 22, 'a' || char(10) || 'b', 'é'\"").out,
            "┌────┬──────┬───┐\n"
            "│ n  │  b   │ z │\n"
            "├────┼──────┼───┤\n"
            "│ 1  │ 00FF │   │\n"
            "├────┼──────┼───┤\n"
            "│ 22 │ a    │ é │\n"
            "│    │ b    │   │\n"
            "└────┴──────┴───┘\n");
  EXPECT_EQ(netsql("-m column \"SELECT 1 AS n, 'x' AS s\"").out, "n  s\n-  -\n1  x\n");
  EXPECT_EQ(netsql("-m list \"SELECT 1 AS n, NULL AS z, 2.0 AS r\"").out, "n|z|r\n1||2.0\n");
  EXPECT_EQ(netsql("-m html --no-header \"SELECT '<b>' AS s\"").out, "<TR><TD>&lt;b&gt;</TD>\n</TR>\n");
}

TEST(ShellModes, BoxAndColumnSizeByTheFirstThousandRowsThenStream) {
  // Row 1001 is wider than the widths the first 1000 rows chose: written
  // whole, past its edge, with the rows before it already out.
  Ran r = netsql("-m column \"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1001) "
                 "SELECT CASE WHEN x = 1001 THEN 'wider than before' ELSE 'w' END AS v, x FROM c\"");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 16), "v  x   \n-  ----\n");
  EXPECT_NE(r.out.find("\nwider than before  1001\n"), std::string::npos);
}

TEST(ShellModes, InvalidUtf8InJsonBecomesTheReplacementCharacter) {
  // A stray byte, an overlong NUL, a surrogate: each byte U+FFFD; valid
  // UTF-8 around them kept.
  for (std::string mode : {"json", "jsonl"}) {
    Ran r = netsql("-m " + mode + " \"SELECT CAST(x'61ff62' AS TEXT) AS a, CAST(x'c080' AS TEXT) AS b, "
                   "CAST(x'eda080' AS TEXT) AS c, 'é✓' AS d\"");
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = nlohmann::json::parse(mode == "json" ? r.out : "[" + r.out + "]");  // throws on invalid UTF-8
    EXPECT_EQ(j[0]["a"], "a\xef\xbf\xbd" "b");
    EXPECT_EQ(j[0]["b"], "\xef\xbf\xbd\xef\xbf\xbd");
    EXPECT_EQ(j[0]["c"], "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    EXPECT_EQ(j[0]["d"], "é✓");
  }
}

TEST(ShellModes, UnknownModeNamesEveryMode) {
  Ran r = netsql("-cmd \".mode boxy\" \"SELECT 1\"");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error: usage: .mode MODE [TABLE] (MODE: table|csv|tsv|json|jsonl|line|markdown|box|column|list|quote|insert|html)\n");
}

}  // namespace
}  // namespace netsql::test
