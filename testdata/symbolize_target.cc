// Stops itself at a known place, for the backtrace tests of
// supervisor/symbolize:
//   symbolize_target          main -> Outer -> Middle -> Inner; Inner stops
//                             the process with kill(getpid(), SIGSTOP).
//   symbolize_target threads  starts spinning threads, then a worker runs
//                             Worker -> Outer -> Middle -> Inner, and Inner
//                             sends SIGUSR1 to the worker only (tgkill): under
//                             ptrace only that thread stops, the rest spin.
//   symbolize_target inline   main -> InlineCaller, into which InlineMiddle
//                             and, in it, InlineStop are inlined; InlineStop
//                             stops the process with a raw kill syscall, so
//                             the stopped pc is in inlined code.
//   symbolize_target inline_call  the same, but InlineStop calls libc's
//                             kill(): the return address into InlineCaller
//                             is in inlined code.
//   symbolize_target dlopen:LIB  stops the process (SIGSTOP) before it
//                             dlopens LIB, and again after, having printed
//                             the address of LIB's PluginViolate: code
//                             location lookups before and after a library
//                             comes in.
// Before each call on the way it prints "name=value" lines: the source line
// of the call (so tests need not hard-code line numbers), and addresses.
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

namespace {

bool g_thread_mode = false;
bool g_inline_call = false;
std::atomic<uint64_t> g_spins{0};

void Print(const char* name, long value) {
  printf("%s=%ld\n", name, value);
  fflush(stdout);
}

void* Spin(void*) {
  for (;;) g_spins.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

void OnUsr1(int) {}

}  // namespace

// Not static and not inlined, so each keeps its own symbol and frame; the
// empty asm after each call keeps the compiler from making it a tail call.
__attribute__((noinline)) void Inner() {
  if (g_thread_mode) {
    Print("inner_line", __LINE__ + 1);
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
  } else {
    Print("inner_line", __LINE__ + 1);
    kill(getpid(), SIGSTOP);
  }
  asm volatile("" ::: "memory");
}

__attribute__((noinline)) void Middle() {
  Print("middle_line", __LINE__ + 1);
  Inner();
  asm volatile("" ::: "memory");
}

__attribute__((noinline)) void Outer() {
  Print("outer_line", __LINE__ + 1);
  Middle();
  asm volatile("" ::: "memory");
}

// Inlined even at -O0 (always_inline), so they have no symbol or frame of
// their own: only the debug info knows them.
inline __attribute__((always_inline)) void InlineStop() {
  if (g_inline_call) {
    Print("inline_stop_line", __LINE__ + 1);
    kill(getpid(), SIGSTOP);
  } else {
    const long pid = getpid();
    long ret;
    Print("inline_stop_line", __LINE__ + 1);
    asm volatile("syscall"
                 : "=a"(ret)
                 : "a"(SYS_kill), "D"(pid), "S"(SIGSTOP)
                 : "rcx", "r11", "memory");
    (void)ret;
  }
}

namespace {

// Internal linkage: no linkage name in GCC's debug info, so the symbolizer
// spells the name out from the declaration.
inline __attribute__((always_inline)) void InlineMiddle(const char* why, size_t depth) {
  Print(why, __LINE__ + 1);
  InlineStop();
  asm volatile("" ::: "memory");
}

}  // namespace

__attribute__((noinline)) void InlineCaller() {
  Print("inline_caller_line", __LINE__ + 1);
  InlineMiddle("inline_middle_line", 2);
  asm volatile("" ::: "memory");
}

__attribute__((noinline)) void* Worker(void*) {
  Print("worker_tid", syscall(SYS_gettid));
  Print("worker_line", __LINE__ + 1);
  Outer();
  asm volatile("" ::: "memory");
  return nullptr;
}

int main(int argc, char** argv) {
  // Never outlive a test that lost track of us.
  alarm(60);
  Print("pid", getpid());
  Print("inner_addr", reinterpret_cast<long>(&Inner));
  Print("spins_addr", reinterpret_cast<long>(&g_spins));
  if (argc > 1 && strcmp(argv[1], "threads") == 0) {
    g_thread_mode = true;
    signal(SIGUSR1, OnUsr1);
    pthread_t thread;
    for (int i = 0; i < 2; ++i) pthread_create(&thread, nullptr, Spin, nullptr);
    // Stop only once the spinners demonstrably run.
    while (g_spins.load() < 1000000) {
    }
    pthread_create(&thread, nullptr, Worker, nullptr);
    Spin(nullptr);
  }
  if (argc > 1 && strncmp(argv[1], "dlopen:", 7) == 0) {
    kill(getpid(), SIGSTOP);
    void* library = dlopen(argv[1] + 7, RTLD_NOW);
    if (library == nullptr) return 9;
    Print("plugin_addr", reinterpret_cast<long>(dlsym(library, "PluginViolate")));
    kill(getpid(), SIGSTOP);
    return 0;
  }
  if (argc > 1 && strncmp(argv[1], "inline", 6) == 0) {
    g_inline_call = strcmp(argv[1], "inline_call") == 0;
    Print("main_line", __LINE__ + 1);
    InlineCaller();
    asm volatile("" ::: "memory");
    return 0;
  }
  Print("main_line", __LINE__ + 1);
  Outer();
  asm volatile("" ::: "memory");
  return 0;
}
