// json_records.h: the JSON lines of a --format=json run (violations,
// messages, the summary), for end-to-end tests that assert on records
// rather than on report text.
#ifndef DPSUPERVISE_TESTS_JSON_RECORDS_H_
#define DPSUPERVISE_TESTS_JSON_RECORDS_H_

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace dptest {

using Json = nlohmann::json;

// Every line of `text` that starts with '{', parsed (throws on a malformed
// one: a test that sees JSON output must see valid JSON).
inline std::vector<Json> JsonLines(const std::string& text) {
  std::vector<Json> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '{') lines.push_back(Json::parse(line));
  }
  return lines;
}

// The records of `text` whose "type" is `type` ("violation", "message",
// "summary").
inline std::vector<Json> JsonRecords(const std::string& text, const std::string& type) {
  std::vector<Json> records;
  for (Json& record : JsonLines(text)) {
    if (record.value("type", "") == type) records.push_back(std::move(record));
  }
  return records;
}

inline std::vector<Json> JsonViolations(const std::string& text) {
  return JsonRecords(text, "violation");
}

// The text of every "message" record, one per line.
inline std::string JsonMessages(const std::string& text) {
  std::string messages;
  for (const Json& record : JsonRecords(text, "message")) {
    messages += record["text"].get<std::string>() + "\n";
  }
  return messages;
}

}  // namespace dptest

#endif  // DPSUPERVISE_TESTS_JSON_RECORDS_H_
