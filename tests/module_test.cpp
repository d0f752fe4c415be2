// The table template (vtabs/module.cpp) with a table declared here, built
// in as the netsql shell builds it: what reaches a cursor, and the debug
// check that a cursor reads every constraint pushed to it.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vtabs/registry.h"
#include "vtabs/table.h"

extern "C" int sqlite3_netsql_init(sqlite3* db, char** err, const sqlite3_api_routines* api);

namespace netsql::test {
namespace {

using vt::Cell;
using vt::Column;
using vt::Query;
using vt::Type;

// Two pushable columns; the cursor reads `a` only (a cursor that forgot a
// column), and has a row unless a = 0.
constexpr std::array<Column, 2> kColumns{{
    {"a", Type::Integer, "read by the cursor", vt::kPushEq},
    {"b", Type::Integer, "pushed, never read", vt::kPushEq},
}};

class ForgetfulCursor final : public vt::Cursor {
 public:
  void filter(const Query& q) override {
    const auto* a = q.values(0);
    rows_ = a && !a->empty() && a->front().as_integer() == 0 ? 0 : 1;
  }
  bool eof() const override { return rows_ == 0; }
  void next() override { --rows_; }
  void column(int col, Cell& out) override { out.integer(col + 1); }

 private:
  int rows_ = 0;
};

const vt::TableDef kForgetful{"forgetful", "a cursor that ignores a pushed column", kColumns, 1,
                              [] { return std::unique_ptr<vt::Cursor>(new ForgetfulCursor); }};

class Module : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite3_auto_extension(reinterpret_cast<void (*)()>(sqlite3_netsql_init));
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    sqlite3_reset_auto_extension();
    char* err = nullptr;
    ASSERT_EQ(vt::register_table(db_, kForgetful, &err), SQLITE_OK) << (err ? err : "");
  }
  void TearDown() override { sqlite3_close(db_); }

  // Column `col` of each row, then "error: <message>" if the statement failed.
  std::vector<std::string> run(const std::string& sql, int col = 0) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
    if (rc == SQLITE_OK)
      while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, col)));
    if (rc != SQLITE_DONE) out.push_back(std::string("error: ") + sqlite3_errmsg(db_));
    sqlite3_finalize(st);
    return out;
  }
  sqlite3* db_ = nullptr;
};

// The plan (idxStr, as EXPLAIN QUERY PLAN shows it) hands each pushable
// column over once; SQLite checks the other constraints on it.
TEST_F(Module, PushesOneConstraintPerColumn) {
  EXPECT_EQ(run("EXPLAIN QUERY PLAN SELECT a FROM forgetful WHERE a = 1 AND a = 2 AND b > 3", 3),
            (std::vector<std::string>{"SCAN forgetful VIRTUAL TABLE INDEX 1:a EQ;used=0x3"}));
  EXPECT_EQ(run("SELECT a FROM forgetful WHERE a = 1 AND a = 2"), (std::vector<std::string>{}));
  EXPECT_EQ(run("EXPLAIN QUERY PLAN SELECT b FROM forgetful WHERE b = 1 AND a = 5 AND b = 1", 3),
            (std::vector<std::string>{"SCAN forgetful VIRTUAL TABLE INDEX 2:b EQ,a EQ;used=0x3"}));
}

TEST_F(Module, DebugBuildsCheckThatACursorReadsWhatIsPushed) {
#ifdef NDEBUG
  GTEST_SKIP() << "the check is compiled into debug builds only (NDEBUG is defined)";
#endif
  EXPECT_EQ(run("SELECT a FROM forgetful WHERE a = 1"), (std::vector<std::string>{"1"}));
  EXPECT_EQ(run("SELECT a FROM forgetful WHERE a = 1 AND b = 2"),
            (std::vector<std::string>{"error: forgetful: pushed constraint on b not read by the cursor"}));
  // A cursor that has no rows may stop reading early.
  EXPECT_EQ(run("SELECT a FROM forgetful WHERE a = 0 AND b = 2"), (std::vector<std::string>{}));
}

}  // namespace
}  // namespace netsql::test

namespace netsql::test {
namespace {

// A constraint value reads as the integer SQLite's INTEGER affinity would
// make of it, exactly (integer text past 2^53 is not rounded by a double).
TEST(Value, AsIntegerIsExactAndRefusesWhatIsNoInteger) {
  auto text = [](std::string s) {
    vt::Value v;
    v.kind = vt::Value::Kind::Text;
    v.s = std::move(s);
    return v.as_integer();
  };
  EXPECT_EQ(text("9007199254740993"), 9007199254740993);
  EXPECT_EQ(text("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(text(" 80 "), 80);
  EXPECT_EQ(text("80.0"), 80);
  EXPECT_EQ(text("1e3"), 1000);
  for (std::string s : {"", "x", "80.5", "0x10", "nan", "1e300", "99999999999999999999", "80 x"})
    EXPECT_EQ(text(s), std::nullopt) << s;
  vt::Value r;
  r.kind = vt::Value::Kind::Real;
  r.r = 80.0;
  EXPECT_EQ(r.as_integer(), 80);
}

}  // namespace
}  // namespace netsql::test
