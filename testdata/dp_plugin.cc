// A shared library that dlopen_violate loads while its worker is strict:
// its one function makes a syscall with no call outside itself (no PLT
// entry to resolve lazily from a strict thread).
#include <sys/syscall.h>

extern "C" __attribute__((noinline, visibility("default"))) long PluginViolate() {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "0"(SYS_getppid) : "rcx", "r11", "memory");
  return ret;
}
