// dlopen_violate PLUGIN: a strict worker violates once (getpid, reported
// with this program's symbols); then the main thread dlopens PLUGIN, a
// library mapped after that first report, and the worker calls its
// PluginViolate(), violating again (getppid): the second report must name
// the library's function. Run with --on-violation=log.
#include <dlfcn.h>

#include <atomic>

#include "testdata/strict_test_util.h"

namespace {

std::atomic<bool> g_first_done{false};
std::atomic<long (*)()> g_plugin{nullptr};

__attribute__((noinline)) long BeforeTheLibrary() { return dptest::RawSyscall0(SYS_getpid); }

void* Worker(void*) {
  dptest::LockAndPrefault();  // mlockall(MCL_FUTURE): the library comes in faulted
  dptest::AnnounceTid("worker_tid");
  dptest::EnterStrictOrDie();
  BeforeTheLibrary();
  g_first_done = true;
  long (*plugin)() = nullptr;
  while ((plugin = g_plugin.load()) == nullptr) {
  }
  plugin();
  dp_exit_strict();
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  pthread_t worker = dptest::StartThread(Worker);
  while (!g_first_done.load()) {
  }
  void* library = dlopen(argv[1], RTLD_NOW);
  if (library == nullptr) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 9;
  }
  auto plugin = reinterpret_cast<long (*)()>(dlsym(library, "PluginViolate"));
  if (plugin == nullptr) return 10;
  g_plugin = plugin;
  pthread_join(worker, nullptr);
  printf("done\n");
  return 0;
}
