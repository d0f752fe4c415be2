// The Debian package as a user meets it: built by cpack and unpacked with
// dpkg -x into a scratch root (the CTest fixture package_build), then used
// from a directory outside the source tree: the stock sqlite3 shell and
// Python load the extension by its bare name (the scratch root's library
// directory on the dlopen path stands in for /usr/lib), man renders the
// pages, bash completes from the declarations, and every SQL text the
// netstat front end prints compiles with nothing but the extension loaded.
#include <glob.h>
#include <unistd.h>

#include <set>

#include "netstat.h"
#include "output.h"
#include "support.h"
#include "usage.h"
#include "vtabs/registry.h"

namespace netsql::test {
namespace {

const std::string kRoot = NETSQL_PACKAGE_DIR "/root";

std::string libdir() {
  std::string d = NETSQL_INSTALL_LIBDIR;
  return kRoot + (d[0] == '/' ? d : "/usr/" + d);
}

std::string deb() {
  glob_t g{};
  std::string path;
  if (glob(NETSQL_PACKAGE_DIR "/netsql_*.deb", 0, nullptr, &g) == 0 && g.gl_pathc == 1) path = g.gl_pathv[0];
  globfree(&g);
  return path;
}

// Runs `cmd` (stdout and stderr) in a fresh directory outside the source
// tree, with the package's library directory on the dlopen path.
std::string outside(const std::string& cmd) {
  char dir[] = "/tmp/netsql-outside-XXXXXX";
  if (!mkdtemp(dir)) return "mkdtemp failed";
  std::string out = run(std::string("cd ") + dir + " && export LD_LIBRARY_PATH=" + libdir() + " && (" + cmd + ") 2>&1");
  run(std::string("rm -rf ") + dir);
  return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Package, DependenciesAreComputedFromTheBinaries) {
  ASSERT_FALSE(deb().empty()) << "no package in " NETSQL_PACKAGE_DIR;
  EXPECT_EQ(run("dpkg-deb -f " + deb() + " Package Version"), "Package: netsql\nVersion: " NETSQL_VERSION "\n");
  std::string depends = run("dpkg-deb -f " + deb() + " Depends");
  // libedit2 and libnftables1 are opened at run time: named explicitly.
  for (const char* lib : {"libedit2", "libc6", "libnftables1"}) EXPECT_TRUE(contains(depends, lib)) << depends;
  // libstdc++ and libgcc are linked in (start-up: CMakeLists.txt), and
  // SQLite too unless it was built without libsqlite3.a.
  for (const char* lib : {"libstdc++6", "libgcc-s1"}) EXPECT_FALSE(contains(depends, lib)) << depends;
  EXPECT_EQ(contains(depends, "libsqlite3-0"), NETSQL_SHELL_LINKS_LIBSQLITE3 == 1) << depends;
}

TEST(Package, HoldsTheShellTheExtensionManPagesCompletionAndDocs) {
  std::string files = run("dpkg-deb -c " + deb() + " | awk '{print $6}'");
  std::string lib = libdir().substr(kRoot.size());
  for (const std::string& f : std::vector<std::string>{"./usr/bin/netsql", "." + lib + "/netsql.so", "./usr/share/man/man1/netsql.1.gz",
                               "./usr/share/man/man7/netsql-tables.7.gz", "./usr/share/bash-completion/completions/netsql",
                               "./usr/share/doc/netsql/tables.md", "./usr/share/doc/netsql/README.md",
                               "./usr/share/doc/netsql/examples/tcp_states.sql"})
    EXPECT_TRUE(contains(files, f + "\n")) << f << " not in\n" << files;
  // Stripped, the extension included (it is installed under another name
  // than its target's, so cpack's strip does not see it).
  for (const std::string& elf : {kRoot + "/usr/bin/netsql", libdir() + "/netsql.so"})
    EXPECT_EQ(run("readelf -S " + elf + " | grep -cE '\\.(symtab|debug_info)'"), "0\n") << elf;
}

using PackageInNetns = NetnsTest;

TEST_F(PackageInNetns, StockSqlite3LoadsTheExtensionByBareName) {
  int l = tcp_listener("127.0.0.1", 0);
  std::string query = "SELECT state, count(*) FROM tcp_sockets GROUP BY state;";
  EXPECT_EQ(outside("printf '%s\\n' '.load netsql' \"" + query + "\" | sqlite3 :memory:"), "LISTEN|1\n");
  // The full path (without .so) works without the library path too.
  EXPECT_EQ(outside("env -u LD_LIBRARY_PATH sqlite3 :memory: '.load " + libdir() + "/netsql' \"" + query + "\""),
            "LISTEN|1\n");
  close(l);
}

TEST_F(PackageInNetns, PythonLoadsTheExtensionByBareName) {
  int l = tcp_listener("::1", 0);
  EXPECT_EQ(outside("/usr/bin/python3 -c 'import sqlite3; c = sqlite3.connect(\":memory:\"); "
                    "c.enable_load_extension(True); c.load_extension(\"netsql\"); "
                    "print(c.execute(\"SELECT state, count(*) FROM tcp_sockets GROUP BY state\").fetchall())'"),
            "[('LISTEN', 1)]\n");
  close(l);
}

TEST(Package, InstalledShellPrintsItsVersion) {
  EXPECT_EQ(outside(kRoot + "/usr/bin/netsql --version"),
            "netsql " NETSQL_VERSION " (SQLite " + std::string(sqlite3_libversion()) + ")\n");
}

TEST(Package, ManPagesRenderWithoutWarnings) {
  for (const char* page : {"man1/netsql.1.gz", "man7/netsql-tables.7.gz"}) {
    std::string path = kRoot + "/usr/share/man/" + page;
    EXPECT_EQ(outside("MANWIDTH=80 man -l --warnings " + path + " >/dev/null"), "") << page;
    EXPECT_NE(outside("MANWIDTH=80 man -l " + path).size(), 0u);
  }
  std::string man1 = outside("MANWIDTH=80 man -l " + kRoot + "/usr/share/man/man1/netsql.1.gz");
  for (const char* section : {"SYNOPSIS", "OPTIONS", "COMMANDS", "EXIT STATUS", "EXAMPLES"})
    EXPECT_TRUE(contains(man1, std::string("\n") + section + "\n")) << section;
  for (const shell::Command* c : shell::all_commands()) EXPECT_TRUE(contains(man1, c->invocation() + " ")) << c->name;
  // The source of the tables page: every table and column, every function.
  std::string man7 = run("gzip -dc " + kRoot + "/usr/share/man/man7/netsql-tables.7.gz");
  for (const vt::TableDef* def : vt::all_tables()) {
    EXPECT_TRUE(contains(man7, ".SS " + std::string(def->name) + "\n")) << def->name;
    for (size_t i = 0; i < def->column_count(); ++i)
      EXPECT_TRUE(contains(man7, ".TP\n\\fB" + std::string(def->column(static_cast<int>(i)).name) + "\\fR"))
          << def->name << "." << def->column(static_cast<int>(i)).name;
  }
  for (const vt::FunctionDoc& f : vt::all_functions())
    EXPECT_TRUE(contains(man7, ".TP\n\\fB" + std::string(f.signature) + "\\fR\n")) << f.signature;
}

// COMPREPLY of the installed completion for the words typed so far.
std::string complete(const std::vector<std::string>& words) {
  std::string list;
  for (const auto& w : words) list += " '" + w + "'";
  return run("bash -c 'source \"$0\"; COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); _netsql; "
             "printf \"%s\\n\" \"${COMPREPLY[@]}\"' " +
             kRoot + "/usr/share/bash-completion/completions/netsql netsql" + list);
}

TEST(Package, BashCompletionCompletesFromTheDeclarations) {
  std::string formats = shell::format_names();
  for (char& ch : formats) ch = ch == '|' ? '\n' : ch;
  EXPECT_EQ(complete({"-m", ""}), formats + "\n");
  EXPECT_EQ(complete({"--format", "json"}), "json\njsonl\n");
  for (const shell::Command* c : shell::all_commands()) {
    std::vector<std::string> words;
    if (!c->name.empty()) words.push_back(c->name);
    words.push_back("-");
    std::string options = complete(words);
    for (const shell::Option& o : c->options) {
      for (const std::string& name : {o.short_name, o.long_name}) {
        if (!name.empty()) {
          EXPECT_TRUE(contains(options, name + "\n")) << c->invocation() << " " << name;
        }
      }
    }
    if (!c->name.empty()) {
      EXPECT_TRUE(contains(complete({c->name.substr(0, 3)}), c->name + "\n")) << c->name;
    }
  }
  for (const vt::TableDef* def : vt::all_tables()) {
    std::string name(def->name);
    EXPECT_TRUE(contains(complete({name.substr(0, name.size() - 1)}), name + "\n")) << name;
    // The last word of SQL typed so far.
    EXPECT_EQ(complete({"SELECT * FROM " + name}), "SELECT * FROM " + name + "\n");
  }
}

TEST(Package, ExtensionNeverLooksNamesUpOnTheNetwork) {
  std::string imports = run("nm -D --undefined-only " + libdir() + "/netsql.so");
  ASSERT_TRUE(contains(imports, "fopen")) << imports;  // it reads the files itself
  for (const char* resolver : {"getaddrinfo", "getnameinfo", "gethostbyaddr", "gethostbyname", "getservbyport",
                               "getservbyname", "res_query", "res_search"})
    EXPECT_FALSE(contains(imports, resolver)) << resolver;
}

// Every option set the netstat front end accepts (all subsets of its flag
// table; --help prints the usage instead of SQL), as arguments.
std::vector<std::vector<std::string>> every_netstat_flag_set() {
  std::vector<const shell::NetstatFlag*> flags;
  // Every subset is 2^n: the options that only refine one mode (-C, -N, -v,
  // -Z, -F, --counters, --numeric-*) are left out here; netstat_test runs
  // the SQL of each with its mode.
  const std::set<std::string_view> refinements = {"--cache", "--symbolic", "--verbose", "--context", "--fib",
                                                  "--counters", "--numeric-hosts", "--numeric-ports", "--numeric-users",
                                                  "--udplite", "--sctp"};
  for (const auto& f : shell::netstat_flags())
    if (!(f.name && (std::string_view(f.name) == "--help" || std::string_view(f.name) == "--version" ||
                     refinements.count(f.name))))
      flags.push_back(&f);
  std::vector<std::vector<std::string>> out;
  for (uint32_t mask = 0; mask < (1u << flags.size()); ++mask) {
    std::string letters = "-";
    std::vector<std::string> args;
    for (size_t i = 0; i < flags.size(); ++i) {
      if (!(mask >> i & 1)) continue;
      if (flags[i]->letter) letters += flags[i]->letter;
      else args.emplace_back(flags[i]->name);
    }
    if (letters.size() > 1) args.push_back(letters);
    out.push_back(std::move(args));
  }
  return out;
}

TEST(Package, EveryNetstatSqlPreparesWithOnlyTheExtensionLoaded) {
  std::set<std::string> sqls;
  size_t sets = 0;
  for (const auto& args : every_netstat_flag_set()) {
    shell::NetstatOptions o;
    try {
      o = shell::parse_netstat_options(args);
    } catch (const shell::UsageError&) {
      continue;  // refused, as netstat refuses it (-r with -i, ...): no SQL
    }
    ++sets;
    for (const auto& sec : shell::netstat_sections(o)) sqls.insert(sec.sql);
  }
  EXPECT_GT(sets, 100000u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  // Nothing in this process provides the names functions but the extension.
  EXPECT_NE(sqlite3_prepare_v2(db, "SELECT host_name('127.0.0.1')", -1, &st, nullptr), SQLITE_OK);
  EXPECT_STREQ(sqlite3_errmsg(db), "no such function: host_name");
  sqlite3_enable_load_extension(db, 1);
  char* err = nullptr;
  ASSERT_EQ(sqlite3_load_extension(db, (libdir() + "/netsql.so").c_str(), nullptr, &err), SQLITE_OK) << err;
  size_t named = 0;
  for (const std::string& sql : sqls) {
    named += contains(sql, "service_name(") || contains(sql, "host_name(");
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db) << "\n" << sql;
    sqlite3_finalize(st);
  }
  EXPECT_GT(named, 0u);
  sqlite3_close(db);
  RecordProperty("distinct_sql", static_cast<int>(sqls.size()));
}

using PackageNetstat = NetnsTest;

TEST_F(PackageNetstat, InstalledNetstatSqlRunsInTheStockShell) {
  // End to end, one flag at a time: the installed shell prints the SQL, the
  // stock sqlite3 shell runs it after `.load netsql`.
  for (const auto& f : shell::netstat_flags()) {
    if (f.name && (std::string_view(f.name) == "--help" || std::string_view(f.name) == "--version")) continue;
    std::string flag = f.letter ? std::string{'-', f.letter} : std::string(f.name);
    std::string out = outside(kRoot + "/usr/bin/netsql netstat " + flag + " --sql | sqlite3 -bail -cmd '.load netsql' :memory: "
                              ">/dev/null && echo ok");
    EXPECT_EQ(out, "ok\n") << "netsql netstat " << flag << " --sql";
  }
}

}  // namespace
}  // namespace netsql::test
