// Tests for the configuration reader: getters, defaults, environment overrides, violations,
// unknown keys, secrets and the generated key reference.
#include "common/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace wojak {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;
using namespace std::chrono_literals;

using Environment = std::map<std::string, std::string>;

std::unique_ptr<ConfigDocument> ParseOrDie(std::string_view yaml, const Environment& env = {}) {
  auto document = ConfigDocument::Parse(yaml, &env);
  EXPECT_TRUE(document.ok()) << document.status().ToString();
  return std::move(document).value();
}

std::string AllErrors(ConfigDocument& document) {
  std::string text;
  for (const std::string& error : document.errors().all()) text += error + "\n";
  return text;
}

// A temporary file removed when the test ends.
class TempFile {
 public:
  explicit TempFile(std::string_view content) {
    char name[] = "/tmp/wojak_config_test_XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = name;
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ConfigTest, ReadsEveryGetterTypeFromFile) {
  auto document = ParseOrDie(R"(
app:
  name: gateway
  workers: 8
  ratio: 0.25
  enabled: false
  timeout: 5s
  hosts: [a, b]
  mode: fast
  price: "123.45"
)");
  ConfigSection app = document->Root().Section("app", "application");
  EXPECT_EQ(app.String("name", "x", "name"), "gateway");
  EXPECT_EQ(app.Int("workers", 1, "workers", 1, 64), 8);
  EXPECT_DOUBLE_EQ(app.Double("ratio", 1.0, "ratio", 0.0, 1.0), 0.25);
  EXPECT_FALSE(app.Bool("enabled", true, "enabled"));
  EXPECT_EQ(app.Duration("timeout", 1s, "timeout"), 5s);
  EXPECT_THAT(app.StringList("hosts", {}, "hosts"), ElementsAre("a", "b"));
  EXPECT_EQ(app.Enum("mode", "slow", {"slow", "fast"}, "mode"), "fast");
  EXPECT_EQ(app.Raw("price", "rupees", "0", "price"), "123.45");
  EXPECT_TRUE(document->errors().empty()) << AllErrors(*document);
}

TEST(ConfigTest, AbsentKeysTakeTheirDefaults) {
  const Environment env;
  auto document = ConfigDocument::Empty(&env);
  ConfigSection app = document->Root().Section("app", "application");
  EXPECT_EQ(app.String("name", "gw", "name"), "gw");
  EXPECT_EQ(app.Int("workers", 3, "workers"), 3);
  EXPECT_DOUBLE_EQ(app.Double("ratio", 0.5, "ratio", 0.0, 1.0), 0.5);
  EXPECT_TRUE(app.Bool("enabled", true, "enabled"));
  EXPECT_EQ(app.Duration("timeout", 250ms, "timeout"), 250ms);
  EXPECT_THAT(app.StringList("hosts", {"h"}, "hosts"), ElementsAre("h"));
  EXPECT_EQ(app.Enum("mode", "slow", {"slow", "fast"}, "mode"), "slow");
  EXPECT_EQ(app.Raw("price", "rupees", "0", "price"), std::nullopt);
  EXPECT_EQ(app.Secret("token", "token"), std::nullopt);
  EXPECT_FALSE(app.Has("name"));
  EXPECT_TRUE(document->errors().empty()) << AllErrors(*document);
}

TEST(ConfigTest, EnvironmentBeatsFileBeatsDefault) {
  const Environment env = {{"WOJAK_JOURNAL_SYNC_MODE", "always"},
                           {"WOJAK_SOURCES_HTTP_LISTEN", "127.0.0.1:9000"},
                           {"WOJAK_JOURNAL_MAX_BATCH", "64"}};
  auto document = ParseOrDie(R"(
journal:
  sync_mode: batch
  batch-delay: 2ms
sources:
  http:
    listen: 127.0.0.1:8000
)",
                             env);
  ConfigSection journal = document->Root().Section("journal", "journal");
  EXPECT_EQ(journal.Enum("sync_mode", "none", {"none", "batch", "always"}, "sync"), "always");
  EXPECT_EQ(journal.Duration("batch-delay", 1ms, "delay"), 2ms);
  EXPECT_EQ(journal.Int("max_batch", 16, "batch"), 64);
  EXPECT_EQ(journal.Int("queue", 1024, "queue"), 1024);
  ConfigSection http = document->Root().Section("sources", "sources").Section("http", "http");
  EXPECT_EQ(http.String("listen", "", "listen"), "127.0.0.1:9000");
  EXPECT_TRUE(document->errors().empty()) << AllErrors(*document);
}

TEST(ConfigTest, EnvironmentVariableNamesUppercaseAndReplaceDotsAndDashes) {
  EXPECT_EQ(ConfigEnvironmentVariable("journal.sync_mode"), "WOJAK_JOURNAL_SYNC_MODE");
  EXPECT_EQ(ConfigEnvironmentVariable("sources.http.listen"), "WOJAK_SOURCES_HTTP_LISTEN");
  EXPECT_EQ(ConfigEnvironmentVariable("journal.batch-delay"), "WOJAK_JOURNAL_BATCH_DELAY");
}

TEST(ConfigTest, EnvironmentListIsCommaSeparated) {
  auto document = ParseOrDie("", {{"WOJAK_APP_HOSTS", "a, b ,c"}});
  EXPECT_THAT(document->Root().Section("app", "").StringList("hosts", {}, "hosts"),
              ElementsAre("a", "b", "c"));
}

TEST(ConfigTest, BadEnvironmentValueNamesTheVariable) {
  auto document = ParseOrDie("", {{"WOJAK_APP_WORKERS", "many"}});
  EXPECT_EQ(document->Root().Section("app", "").Int("workers", 2, "workers"), 2);
  EXPECT_THAT(AllErrors(*document),
              HasSubstr("app.workers: expected an integer, got 'many' (from environment "
                        "WOJAK_APP_WORKERS)"));
}

TEST(ConfigTest, ReportsEveryViolationAtOnce) {
  auto document = ParseOrDie(R"(
app:
  workers: lots
  ratio: 2.5
  mode: turbo
)");
  ConfigSection app = document->Root().Section("app", "");
  app.Int("workers", 1, "workers");
  app.Double("ratio", 0.5, "ratio", 0.0, 1.0);
  app.Enum("mode", "slow", {"slow", "fast"}, "mode");
  ASSERT_THAT(document->errors().all(), SizeIs(3));
  EXPECT_EQ(document->errors().all()[0], "app.workers: expected an integer, got 'lots'");
  EXPECT_EQ(document->errors().all()[1], "app.ratio: must be between 0 and 1, got 2.5");
  EXPECT_EQ(document->errors().all()[2], "app.mode: must be one of slow, fast, got 'turbo'");
  const Status status = document->errors().ToStatus();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "3 configuration violations:\n"
            "app.workers: expected an integer, got 'lots'\n"
            "app.ratio: must be between 0 and 1, got 2.5\n"
            "app.mode: must be one of slow, fast, got 'turbo'");
}

TEST(ConfigTest, NoViolationsIsOk) {
  auto document = ParseOrDie("app: {workers: 2}");
  document->Root().Section("app", "").Int("workers", 1, "workers");
  document->CheckUnknownKeys();
  EXPECT_TRUE(document->errors().ToStatus().ok());
}

TEST(ConfigTest, IntOutOfRangeNamesTheBound) {
  auto document = ParseOrDie("app: {low: -1, high: 100, both: 7, huge: 99999999999999999999}");
  ConfigSection app = document->Root().Section("app", "");
  EXPECT_EQ(app.Int("low", 5, "low", 0), 5);
  EXPECT_EQ(app.Int("high", 5, "high", INT64_MIN, 10), 5);
  EXPECT_EQ(app.Int("both", 5, "both", 1, 5), 5);
  EXPECT_EQ(app.Int("huge", 5, "huge"), 5);
  EXPECT_THAT(
      document->errors().all(),
      ElementsAre("app.low: must be at least 0, got -1", "app.high: must be at most 10, got 100",
                  "app.both: must be between 1 and 5, got 7",
                  "app.huge: integer '99999999999999999999' is out of range"));
}

TEST(ConfigTest, TypeMismatchesAreViolations) {
  auto document = ParseOrDie(R"(
app:
  name: {nested: 1}
  flag: maybe
  hosts: single
  list_of_maps: [{a: 1}]
  sub: 5
  empty:
)");
  ConfigSection app = document->Root().Section("app", "");
  EXPECT_EQ(app.String("name", "d", "name"), "d");
  EXPECT_TRUE(app.Bool("flag", true, "flag"));
  EXPECT_THAT(app.StringList("hosts", {"d"}, "hosts"), ElementsAre("d"));
  EXPECT_THAT(app.StringList("list_of_maps", {}, "l"), SizeIs(0));
  app.Section("sub", "sub");
  EXPECT_EQ(app.String("empty", "d", "empty"), "d");
  const std::string errors = AllErrors(*document);
  EXPECT_THAT(errors, HasSubstr("app.name: expected a string, got a mapping (line 3)"));
  EXPECT_THAT(errors, HasSubstr("app.flag: expected true or false, got 'maybe'"));
  EXPECT_THAT(errors, HasSubstr("app.hosts: expected a list, got a scalar (line 5)"));
  EXPECT_THAT(errors, HasSubstr("app.list_of_maps[0]: expected a string, got a mapping"));
  EXPECT_THAT(errors, HasSubstr("app.sub: expected a mapping, got a scalar (line 7)"));
  EXPECT_THAT(errors, HasSubstr("app.empty: expected a string, got an empty value"));
  EXPECT_THAT(document->errors().all(), SizeIs(6));
}

TEST(ConfigTest, BoolAcceptsYamlSpellings) {
  auto document = ParseOrDie("app: {a: yes, b: off, c: TRUE, d: 0}");
  ConfigSection app = document->Root().Section("app", "");
  EXPECT_TRUE(app.Bool("a", false, ""));
  EXPECT_FALSE(app.Bool("b", true, ""));
  EXPECT_TRUE(app.Bool("c", false, ""));
  EXPECT_FALSE(app.Bool("d", true, ""));
  EXPECT_TRUE(document->errors().empty()) << AllErrors(*document);
}

TEST(ConfigTest, ParsesDurationUnits) {
  auto document = ParseOrDie("d: {a: 250ms, b: 5s, c: 2m, d: 1h, e: 40, f: 0}");
  ConfigSection d = document->Root().Section("d", "");
  EXPECT_EQ(d.Duration("a", 0ms, ""), 250ms);
  EXPECT_EQ(d.Duration("b", 0ms, ""), 5s);
  EXPECT_EQ(d.Duration("c", 0ms, ""), 2min);
  EXPECT_EQ(d.Duration("d", 0ms, ""), 1h);
  EXPECT_EQ(d.Duration("e", 0ms, ""), 40ms);
  EXPECT_EQ(d.Duration("f", 7ms, ""), 0ms);
  EXPECT_TRUE(document->errors().empty()) << AllErrors(*document);
}

TEST(ConfigTest, RejectsMalformedDurations) {
  auto document = ParseOrDie(R"(d: {a: "5 s", b: -1ms, c: abc, d: 1.5s, e: 10d, f: ""})");
  ConfigSection d = document->Root().Section("d", "");
  for (const char* key : {"a", "b", "c", "d", "e", "f"}) {
    EXPECT_EQ(d.Duration(key, 9ms, ""), 9ms) << key;
  }
  ASSERT_THAT(document->errors().all(), SizeIs(6));
  EXPECT_EQ(document->errors().all()[0],
            "d.a: expected a duration such as 250ms, 5s, 2m or 1h, got '5 s'");
  EXPECT_THAT(document->errors().all()[1], HasSubstr("got '-1ms'"));
  EXPECT_THAT(document->errors().all()[2], HasSubstr("got 'abc'"));
}

TEST(ConfigTest, UnknownKeysAreReportedAtEveryLevel) {
  auto document = ParseOrDie(R"(
journal:
  sync_mode: batch
  sync_mdoe: always
  nested:
    known: 1
    extra: 2
risk:
  accounts:
    acc1:
      max_qty: 10
      max_qyt: 11
mystery: true
)");
  ConfigSection root = document->Root();
  ConfigSection journal = root.Section("journal", "");
  journal.String("sync_mode", "none", "");
  journal.Section("nested", "").Int("known", 0, "");
  ConfigSection accounts = root.Section("risk", "").Section("accounts", "");
  for (const std::string& name : accounts.MapKeys()) {
    accounts.Section(name, "").Int("max_qty", 0, "");
  }
  document->CheckUnknownKeys();
  EXPECT_THAT(document->errors().all(),
              ElementsAre("unknown key 'journal.sync_mdoe' (did you mean 'journal.sync_mode'?)",
                          "unknown key 'journal.nested.extra'",
                          "unknown key 'risk.accounts.acc1.max_qyt' (did you mean "
                          "'risk.accounts.acc1.max_qty'?)",
                          "unknown key 'mystery'"));
}

TEST(ConfigTest, UnreadSectionIsOneUnknownKey) {
  auto document = ParseOrDie("legacy: {a: 1, b: 2}\n");
  document->CheckUnknownKeys();
  EXPECT_THAT(document->errors().all(), ElementsAre("unknown key 'legacy'"));
}

TEST(ConfigTest, SecretInFileIsRefusedWithoutEchoingIt) {
  auto document = ParseOrDie("api: {token: hunter2-very-secret}\n");
  EXPECT_EQ(document->Root().Section("api", "").Secret("token", "admin token"), std::nullopt);
  ASSERT_THAT(document->errors().all(), SizeIs(1));
  EXPECT_EQ(document->errors().all()[0],
            "api.token: secrets must come from the environment (WOJAK_API_TOKEN) or a file "
            "(token_file), not the configuration file");
  EXPECT_THAT(document->errors().ToStatus().message(), Not(HasSubstr("hunter2")));
}

TEST(ConfigTest, SecretFromFileTrimsTrailingNewline) {
  TempFile secret_file("s3cr3t\n");
  auto document = ParseOrDie("api: {token_file: " + secret_file.path() + "}\n");
  EXPECT_EQ(document->Root().Section("api", "").Secret("token", "admin token"), "s3cr3t");
  document->CheckUnknownKeys();
  EXPECT_TRUE(document->errors().empty()) << AllErrors(*document);
}

TEST(ConfigTest, SecretFromEnvironment) {
  auto document = ParseOrDie("api: {}\n", {{"WOJAK_API_TOKEN", "from-env"}});
  EXPECT_EQ(document->Root().Section("api", "").Secret("token", "admin token"), "from-env");
  EXPECT_TRUE(document->errors().empty()) << AllErrors(*document);
}

TEST(ConfigTest, SecretFileNamedInEnvironment) {
  TempFile secret_file("abc\r\n");
  auto document = ParseOrDie("", {{"WOJAK_API_TOKEN_FILE", secret_file.path()}});
  EXPECT_EQ(document->Root().Section("api", "").Secret("token", "admin token"), "abc");
}

TEST(ConfigTest, MissingSecretFileIsAViolation) {
  auto document = ParseOrDie("api: {token_file: /nonexistent/wojak/token}\n");
  EXPECT_EQ(document->Root().Section("api", "").Secret("token", ""), std::nullopt);
  EXPECT_THAT(document->errors().all(),
              ElementsAre("api.token_file: cannot read secret file '/nonexistent/wojak/token'"));
}

TEST(ConfigTest, SecretValuesNeverAppearInDocs) {
  auto document = ParseOrDie("", {{"WOJAK_API_TOKEN", "topsecret"}});
  document->Root().Section("api", "").Secret("token", "admin token");
  const std::string rendered = RenderConfigDocs(document->docs());
  EXPECT_THAT(rendered, HasSubstr("`api.token` | secret"));
  EXPECT_THAT(rendered, HasSubstr("`api.token_file` | path"));
  EXPECT_THAT(rendered, Not(HasSubstr("topsecret")));
}

TEST(ConfigTest, YamlSyntaxErrorGivesLineAndColumn) {
  const Environment env;
  auto document = ConfigDocument::Parse("a: 1\nb: [unclosed\nc: 3\n", &env);
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(document.status().message(), HasSubstr("YAML syntax error at line"));
  EXPECT_THAT(document.status().message(), HasSubstr("column"));
}

TEST(ConfigTest, RootMustBeAMapping) {
  const Environment env;
  auto document = ConfigDocument::Parse("- a\n- b\n", &env);
  ASSERT_FALSE(document.ok());
  EXPECT_THAT(document.status().message(), HasSubstr("must be a mapping"));
}

TEST(ConfigTest, DuplicateKeysAreViolations) {
  auto document = ParseOrDie("app:\n  a: 1\n  a: 2\nother: 1\nother: 2\n");
  EXPECT_THAT(document->errors().all(),
              ElementsAre("app.a: duplicate key (line 3)", "other: duplicate key (line 5)"));
}

TEST(ConfigTest, LoadReadsAFileAndReportsAMissingOne) {
  TempFile config("app: {workers: 4}\n");
  const Environment env;
  auto document = ConfigDocument::Load(config.path(), &env);
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ((*document)->Root().Section("app", "").Int("workers", 1, ""), 4);
  auto missing = ConfigDocument::Load("/nonexistent/wojak.yaml", &env);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/wojak.yaml"));
}

TEST(ConfigTest, DocsUseNamePlaceholderForMapSectionsAndDedupe) {
  auto document = ParseOrDie("risk: {accounts: {a1: {max_qty: 1}, a2: {max_qty: 2}}}\n");
  ConfigSection accounts = document->Root().Section("risk", "").Section("accounts", "");
  for (const std::string& name : accounts.MapKeys()) {
    accounts.Section(name, "per account").Int("max_qty", 100, "largest order quantity", 1);
  }
  int max_qty_docs = 0;
  for (const ConfigKeyDoc& doc : document->docs()) {
    if (doc.path == "risk.accounts.<name>.max_qty") {
      ++max_qty_docs;
      EXPECT_EQ(doc.type, "int");
      EXPECT_EQ(doc.default_value, "100");
      EXPECT_EQ(doc.doc, "largest order quantity");
    }
    EXPECT_THAT(doc.path, Not(HasSubstr("a1")));
  }
  EXPECT_EQ(max_qty_docs, 1);
}

TEST(ConfigTest, RendersMarkdownTableSortedByKey) {
  const Environment env;
  auto document = ConfigDocument::Empty(&env);
  ConfigSection journal = document->Root().Section("journal", "the journal");
  journal.Enum("sync_mode", "batch", {"none", "batch"}, "when to fsync | how");
  journal.Duration("delay", 2000ms, "group commit delay");
  EXPECT_EQ(RenderConfigDocs(document->docs()),
            "| Key | Type | Default | Environment variable | Description |\n"
            "|---|---|---|---|---|\n"
            "| `journal.delay` | duration | `2s` | `WOJAK_JOURNAL_DELAY` | group commit delay |\n"
            "| `journal.sync_mode` | one of none\\|batch | `batch` | `WOJAK_JOURNAL_SYNC_MODE` | "
            "when to fsync \\| how |\n");
}

TEST(ConfigTest, HasSeesFileAndEnvironment) {
  auto document = ParseOrDie("app: {a: 1}\n", {{"WOJAK_APP_B", "2"}});
  ConfigSection app = document->Root().Section("app", "");
  EXPECT_TRUE(app.Has("a"));
  EXPECT_TRUE(app.Has("b"));
  EXPECT_FALSE(app.Has("c"));
}

TEST(ConfigTest, ModuleErrorIsRecordedWithPath) {
  auto document = ParseOrDie("risk: {max_value: '12.345'}\n");
  ConfigSection risk = document->Root().Section("risk", "");
  ASSERT_EQ(risk.Raw("max_value", "rupees", "0", ""), "12.345");
  risk.Error("max_value", "more than 2 decimal places: '12.345'");
  EXPECT_THAT(document->errors().all(),
              ElementsAre("risk.max_value: more than 2 decimal places: '12.345'"));
}

}  // namespace
}  // namespace wojak
