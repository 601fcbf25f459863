// test_files.h: a test's scratch directory and the files it writes there.
#ifndef DPSUPERVISE_TESTS_TEST_FILES_H_
#define DPSUPERVISE_TESTS_TEST_FILES_H_

#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

namespace dptest {

// Bazel's per-test scratch directory ($TEST_TMPDIR), or /tmp outside Bazel.
inline std::string TestTmpDir() {
  const char* dir = getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// TestTmpDir()/name, created if it does not exist yet.
inline std::string MakeTestDir(const std::string& name) {
  const std::string dir = TestTmpDir() + "/" + name;
  mkdir(dir.c_str(), 0755);
  return dir;
}

// Writes `contents` to `path` byte for byte, replacing the file.
inline void WriteTestFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
}

}  // namespace dptest

#endif  // DPSUPERVISE_TESTS_TEST_FILES_H_
