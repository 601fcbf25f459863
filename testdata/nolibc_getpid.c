/* A static program with no C library that calls getpid: under --strict=exec
 * that is a violation at its first syscall. */
__attribute__((noreturn)) void _start(void) {
  long pid;
  asm volatile("syscall" : "=a"(pid) : "a"(39) : "rcx", "r11", "memory"); /* getpid */
  asm volatile("syscall" : : "a"(231), "D"(pid > 0 ? 0 : 1) : "rcx", "r11", "memory");
  __builtin_unreachable();
}
