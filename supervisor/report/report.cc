#include "supervisor/report/report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "supervisor/os/own_stderr.h"
#include <nlohmann/json.hpp>

namespace dpsupervise {
namespace {

using Json = nlohmann::ordered_json;

// ---------------------------------------------------------------------------
// Escaping for the text report.

// The length of the well-formed UTF-8 sequence starting at s[i] (and its code
// point in *cp), or 0 when the bytes there are not well-formed UTF-8 (bad lead
// or continuation byte, truncated, overlong, surrogate, above U+10FFFF).
size_t DecodeUtf8(absl::string_view s, size_t i, uint32_t* cp) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len;
  uint32_t min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2;
    *cp = c & 0x1F;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    *cp = c & 0x0F;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    *cp = c & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const unsigned char b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (b & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
  return len;
}

// Code points that a terminal does not show as a glyph but that can move the
// cursor or reorder text: C1 controls, zero-width characters and marks, line
// and paragraph separators, bidi embeddings, overrides and isolates, BOM.
bool IsInvisibleFormatting(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF;
}

// Makes a string safe to put on one line of the text report: C0 controls and
// DEL become \n, \t, \r or \xNN; bytes that are not well-formed UTF-8 become
// \xNN; invisible formatting characters become \uNNNN. With
// `escape_backslash`, a backslash becomes \\ so that the escaping can be
// undone unambiguously (names and paths); without it, text the supervisor
// already escaped (the strace-style call) is left as it is.
std::string EscapeText(absl::string_view s, bool escape_backslash) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      out += escape_backslash ? "\\\\" : "\\";
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      switch (c) {
        case '\n':
          out += "\\n";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          absl::StrAppendFormat(&out, "\\x%02x", c);
          break;
      }
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else {
      uint32_t cp = 0;
      const size_t len = DecodeUtf8(s, i, &cp);
      if (len == 0) {
        absl::StrAppendFormat(&out, "\\x%02x", c);
        ++i;
      } else {
        if (IsInvisibleFormatting(cp)) {
          absl::StrAppendFormat(&out, "\\u%04x", cp);
        } else {
          out.append(s.data() + i, len);
        }
        i += len;
      }
    }
  }
  return out;
}

// Names and paths that come from the program.
std::string Esc(absl::string_view s) { return EscapeText(s, /*escape_backslash=*/true); }
// Text the supervisor produced (already escaped where it quotes program data).
std::string EscSafe(absl::string_view s) { return EscapeText(s, /*escape_backslash=*/false); }

std::string OrUnknown(const std::string& s) { return s.empty() ? "?" : Esc(s); }

std::string Hex(uint64_t value) { return absl::StrFormat("0x%x", value); }

absl::string_view Basename(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

// ---------------------------------------------------------------------------
// Pieces shared by the headline and the body.

std::string CpuText(int cpu) { return cpu < 0 ? "cpu ?" : absl::StrCat("cpu ", cpu); }

// Foreign ABIs are named, as sandbox2 does: "[x86-32] getpid()".
std::string AbiPrefix(SyscallAbi abi) {
  return abi == SyscallAbi::kX86_64 ? "" : absl::StrCat("[", AbiName(abi), "] ");
}

// The strace-style call, or the bare name when it was not decoded.
std::string CallText(const SyscallDetails& s) {
  if (!s.call.empty()) return EscSafe(s.call);
  if (!s.name.empty()) return absl::StrCat(EscSafe(s.name), "()");
  return absl::StrCat(UnknownSyscallName(s.nr), "()");
}

std::string SignalNameText(const SignalDetails& s) {
  return s.signal_name.empty() ? absl::StrCat("signal ", s.signo) : EscSafe(s.signal_name);
}

std::string SiCodeText(const SignalDetails& s) {
  return s.si_code_name.empty() ? absl::StrCat(s.si_code) : EscSafe(s.si_code_name);
}

// "int 0x80: 32-bit syscall, no IA32 emulation".
std::string ForeignText(const SignalDetails& s) {
  return absl::StrCat(EscSafe(s.foreign_instruction), ": 32-bit syscall, no IA32 emulation");
}

// 1234 ns as "1.2 us", and so on (as the noise lines write durations).
std::string InterruptionDuration(int64_t ns) {
  if (ns < 1000) return absl::StrCat(ns, " ns");
  if (ns < 1000000) return absl::StrFormat("%.1f us", ns / 1e3);
  if (ns < 1000000000) return absl::StrFormat("%.1f ms", ns / 1e6);
  return absl::StrFormat("%.2f s", ns / 1e9);
}

// What the thread did, as the headline says it: "syscall getpid()", "page
// fault at 0x1000 (write)", "trap SIGSEGV (SEGV_MAPERR) at 0x0", ...
std::string WhatItDid(const Violation& v) {
  std::string what;
  const SignalDetails& sig = v.signal;
  switch (v.kind) {
    case ViolationKind::kSyscall:
      what = absl::StrCat("syscall ", AbiPrefix(v.syscall.abi), CallText(v.syscall));
      break;
    case ViolationKind::kPageFault:
      what = "page fault";
      if (sig.has_fault_address) absl::StrAppend(&what, " at ", Hex(sig.fault_address));
      absl::StrAppend(&what, " (", EscSafe(sig.access), ")");
      break;
    case ViolationKind::kTrap:
      what = absl::StrCat("trap ", SignalNameText(sig));
      if (!sig.foreign_instruction.empty()) {
        absl::StrAppend(&what, " (", ForeignText(sig), ")");
      } else {
        absl::StrAppend(&what, " (", SiCodeText(sig), ")");
        if (sig.has_fault_address) absl::StrAppend(&what, " at ", Hex(sig.fault_address));
      }
      break;
    case ViolationKind::kSignal:
      what = absl::StrCat("signal ", SignalNameText(sig));
      if (sig.has_sender) {
        absl::StrAppend(&what, " from pid ", sig.sender_pid, " uid ", sig.sender_uid);
      }
      break;
    case ViolationKind::kIpi:
    case ViolationKind::kIrq:
    case ViolationKind::kTimer:
    case ViolationKind::kSoftirq:
    case ViolationKind::kPreemption:
    case ViolationKind::kMigration:
      what = absl::StrCat(ViolationKindName(v.kind), " ", EscSafe(v.interruption.detail), " (",
                          InterruptionDuration(v.interruption.duration_ns), ")");
      break;
  }
  return what;
}

std::string Headline(const Violation& v) {
  return absl::StrCat("dpsupervise: ", OrUnknown(v.thread_name), "/", v.tid, " (",
                      CpuText(v.cpu), "): strict mode violated by ", WhatItDid(v), "\n");
}

std::string ActionText(const Violation& v) {
  return EscSafe(v.action_detail.empty() ? v.action : v.action_detail);
}

}  // namespace

// A frame whose function is unknown carries, in `offset`, the pc relative to
// the module when the symbolizer knows it (0 otherwise).
std::string FormatFrameLocation(const Frame& f) {
  std::string out = "in ";
  if (!f.function.empty()) {
    absl::StrAppend(&out, Esc(f.function));
    if (f.offset != 0) absl::StrAppend(&out, "+", Hex(f.offset));
  } else {
    out += "??";
    if (!f.module.empty()) {
      absl::StrAppend(&out, " (", Esc(Basename(f.module)));
      if (f.offset != 0) absl::StrAppend(&out, "+", Hex(f.offset));
      out += ")";
    }
  }
  if (!f.file.empty()) {
    absl::StrAppend(&out, " at ", Esc(f.file));
    if (f.line > 0) absl::StrAppend(&out, ":", f.line);
  } else if (!f.function.empty() && !f.module.empty()) {
    absl::StrAppend(&out, " from ", Esc(Basename(f.module)));
  }
  return out;
}

namespace {

// "0x00005555555551c9 in Inner()+0x1c at testdata/foo.cc:12".
std::string FormatFrameText(const Frame& f) {
  return absl::StrFormat("0x%016x %s", f.pc, FormatFrameLocation(f));
}

void AppendRegisters(const user_regs_struct& r, std::string* out) {
  absl::StrAppendFormat(out, "  RIP: %016llx  RSP: %016llx  EFLAGS: %08llx\n", r.rip, r.rsp,
                        r.eflags);
  absl::StrAppendFormat(out, "  RAX: %016llx  RBX: %016llx  RCX: %016llx\n", r.rax, r.rbx, r.rcx);
  absl::StrAppendFormat(out, "  RDX: %016llx  RSI: %016llx  RDI: %016llx\n", r.rdx, r.rsi, r.rdi);
  absl::StrAppendFormat(out, "  RBP: %016llx  R08: %016llx  R09: %016llx\n", r.rbp, r.r8, r.r9);
  absl::StrAppendFormat(out, "  R10: %016llx  R11: %016llx  R12: %016llx\n", r.r10, r.r11, r.r12);
  absl::StrAppendFormat(out, "  R13: %016llx  R14: %016llx  R15: %016llx\n", r.r13, r.r14, r.r15);
  absl::StrAppendFormat(out, "  ORIG_RAX: %016llx  CS: %04llx  SS: %04llx\n", r.orig_rax, r.cs,
                        r.ss);
  absl::StrAppendFormat(out, "  FS_BASE: %016llx  GS_BASE: %016llx\n", r.fs_base, r.gs_base);
}

// ---------------------------------------------------------------------------
// JSON pieces.

std::string DumpLine(const Json& j) {
  // Replace invalid UTF-8 with U+FFFD instead of throwing: names and paths come
  // from the program and can hold any bytes.
  return j.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace) + "\n";
}

Json StringOrNull(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

Json CounterOrNull(long long value) { return value < 0 ? Json(nullptr) : Json(value); }

Json RegistersJson(const user_regs_struct& r) {
  Json j = Json::object();
  j["rax"] = Hex(r.rax);
  j["rbx"] = Hex(r.rbx);
  j["rcx"] = Hex(r.rcx);
  j["rdx"] = Hex(r.rdx);
  j["rsi"] = Hex(r.rsi);
  j["rdi"] = Hex(r.rdi);
  j["rbp"] = Hex(r.rbp);
  j["rsp"] = Hex(r.rsp);
  j["r8"] = Hex(r.r8);
  j["r9"] = Hex(r.r9);
  j["r10"] = Hex(r.r10);
  j["r11"] = Hex(r.r11);
  j["r12"] = Hex(r.r12);
  j["r13"] = Hex(r.r13);
  j["r14"] = Hex(r.r14);
  j["r15"] = Hex(r.r15);
  j["rip"] = Hex(r.rip);
  j["orig_rax"] = Hex(r.orig_rax);
  j["eflags"] = Hex(r.eflags);
  j["cs"] = Hex(r.cs);
  j["ss"] = Hex(r.ss);
  j["ds"] = Hex(r.ds);
  j["es"] = Hex(r.es);
  j["fs"] = Hex(r.fs);
  j["gs"] = Hex(r.gs);
  j["fs_base"] = Hex(r.fs_base);
  j["gs_base"] = Hex(r.gs_base);
  return j;
}

Json SyscallJson(const SyscallDetails& s) {
  Json j = Json::object();
  j["name"] = s.name.empty() ? SyscallName(s.abi, s.nr) : s.name;
  j["nr"] = s.nr;
  j["abi"] = AbiName(s.abi);
  Json args = Json::array();
  for (const DecodedArg& a : s.decoded_args) {
    Json arg = Json::object();
    arg["name"] = a.name;
    arg["kind"] = a.kind;
    arg["raw"] = Hex(a.raw);
    arg["text"] = a.text;
    args.push_back(std::move(arg));
  }
  j["args"] = std::move(args);
  Json raw = Json::array();
  for (uint64_t value : s.args) raw.push_back(Hex(value));
  j["raw_args"] = std::move(raw);
  j["call"] = s.call;
  return j;
}

// Where a faulting address is; null when unknown.
Json FaultContextJson(const FaultContext& c) {
  if (!c.known) return Json(nullptr);
  Json j = Json::object();
  j["mapping"] = c.mapping;
  j["offset"] = c.mapping == "unmapped" ? Json(nullptr) : Json(Hex(c.offset));
  j["symbol"] = StringOrNull(c.symbol);
  j["symbol_offset"] = c.symbol.empty() ? Json(nullptr) : Json(c.symbol_offset);
  j["hint"] = c.hint;
  return j;
}

Json SignalJson(const SignalDetails& s) {
  Json j = Json::object();
  j["signo"] = s.signo;
  j["name"] = s.signal_name;
  j["code"] = s.si_code;
  j["code_name"] = s.si_code_name;
  j["address"] = s.has_fault_address ? Json(Hex(s.fault_address)) : Json(nullptr);
  j["sender_pid"] = s.has_sender ? Json(s.sender_pid) : Json(nullptr);
  j["sender_uid"] = s.has_sender ? Json(s.sender_uid) : Json(nullptr);
  j["foreign_instruction"] = StringOrNull(s.foreign_instruction);
  j["fault_context"] = FaultContextJson(s.fault_context);
  return j;
}

}  // namespace

Json FrameJson(const Frame& f) {
  Json j = Json::object();
  j["pc"] = Hex(f.pc);
  j["function"] = f.function;
  j["offset"] = f.offset;
  j["module"] = f.module;
  j["file"] = StringOrNull(f.file);
  j["line"] = f.line > 0 ? Json(f.line) : Json(nullptr);
  return j;
}

namespace {

// "20.0 ms on cpu 1, 0.0 ms on cpu 0": steal time is counted in USER_HZ
// ticks (10 ms), so more digits would be noise.
std::string StealText(const std::map<int, int64_t>& steal_ns) {
  if (steal_ns.empty()) return "not measured";
  std::string text;
  for (const auto& [cpu, ns] : steal_ns) {
    absl::StrAppend(&text, text.empty() ? "" : ", ",
                    absl::StrFormat("%.1f ms on cpu %d", ns / 1e6, cpu));
  }
  return text;
}

std::string CounterText(long long value) {
  return value < 0 ? "not measured" : absl::StrCat(value);
}

}  // namespace

std::string TimeOfDay(int64_t time_ns) {
  const time_t seconds = static_cast<time_t>(time_ns / 1000000000);
  tm local{};
  localtime_r(&seconds, &local);
  return absl::StrFormat("%02d:%02d:%02d.%06d", local.tm_hour, local.tm_min, local.tm_sec,
                         static_cast<int>(time_ns % 1000000000 / 1000));
}

namespace {

// "  mapping: [heap]+0x2000 (g_table+0x40)" and "  hint:    ..." lines.
void AppendFaultContext(const FaultContext& c, std::string* out) {
  if (!c.known) return;
  absl::StrAppend(out, "  mapping: ", Esc(c.mapping));
  if (c.mapping != "unmapped") absl::StrAppend(out, "+", Hex(c.offset));
  if (!c.symbol.empty()) {
    absl::StrAppend(out, " (", Esc(c.symbol),
                    c.symbol_offset != 0 ? absl::StrCat("+", Hex(c.symbol_offset)) : "", ")");
  }
  absl::StrAppend(out, "\n  hint:    ", Esc(c.hint), "\n");
}

}  // namespace

std::string FormatTextReport(const Violation& v, const TextReportOptions& options) {
  std::string out = Headline(v);
  const SignalDetails& sig = v.signal;
  absl::StrAppend(&out, "  kind:    ", ViolationKindName(v.kind), "\n");
  absl::StrAppend(&out, "  time:    ", TimeOfDay(v.time_ns), "\n");
  absl::StrAppend(&out, "  thread:  ", v.tid, " (", OrUnknown(v.thread_name), ")\n");
  absl::StrAppend(&out, "  process: ", v.pid, " (", OrUnknown(v.process_name), ")\n");
  absl::StrAppend(&out, "  cpu:     ", v.cpu < 0 ? "unknown" : absl::StrCat(v.cpu), "\n");
  switch (v.kind) {
    case ViolationKind::kSyscall:
      absl::StrAppend(&out, "  syscall: ", CallText(v.syscall), " [", AbiName(v.syscall.abi),
                      " nr ", v.syscall.nr, "]\n");
      break;
    case ViolationKind::kPageFault:
      absl::StrAppend(&out, "  address: ",
                      sig.has_fault_address ? Hex(sig.fault_address) : "unknown", "\n");
      absl::StrAppend(&out, "  access:  ", EscSafe(sig.access), "\n");
      AppendFaultContext(sig.fault_context, &out);
      break;
    case ViolationKind::kTrap:
    case ViolationKind::kSignal:
      absl::StrAppend(&out, "  signal:  ", SignalNameText(sig), " (si_code ", SiCodeText(sig),
                      ")\n");
      if (sig.has_fault_address) absl::StrAppend(&out, "  address: ", Hex(sig.fault_address), "\n");
      AppendFaultContext(sig.fault_context, &out);
      if (!sig.foreign_instruction.empty()) {
        absl::StrAppend(&out, "  foreign: ", ForeignText(sig), "\n");
      }
      if (sig.has_sender) {
        absl::StrAppend(&out, "  sender:  pid ", sig.sender_pid, " uid ", sig.sender_uid, "\n");
      } else if (v.kind == ViolationKind::kSignal) {
        out += "  sender:  unknown (kernel or no sender information)\n";
      }
      break;
    case ViolationKind::kIpi:
    case ViolationKind::kIrq:
    case ViolationKind::kTimer:
    case ViolationKind::kSoftirq:
    case ViolationKind::kPreemption:
    case ViolationKind::kMigration:
      absl::StrAppend(&out, "  cause:   ", EscSafe(v.interruption.cause), "\n");
      absl::StrAppend(&out, "  detail:  ", EscSafe(v.interruption.detail), "\n");
      absl::StrAppend(&out, "  lasted:  ", InterruptionDuration(v.interruption.duration_ns),
                      ", from ", TimeOfDay(v.interruption.start_ns), "\n");
      break;
  }
  if (!v.note.empty()) absl::StrAppend(&out, "  note:    ", EscSafe(v.note), "\n");
  absl::StrAppend(&out, "  pc:      ", Hex(v.regs.rip));
  if (!v.backtrace.empty()) absl::StrAppend(&out, " ", FormatFrameLocation(v.backtrace[0]));
  out += "\n";
  if (options.registers) {
    out += "  registers:\n";
    AppendRegisters(v.regs, &out);
  }
  if (v.backtrace.empty()) {
    out += "  backtrace: unavailable";
    if (!v.backtrace_error.empty()) absl::StrAppend(&out, " (", Esc(v.backtrace_error), ")");
    out += "\n";
  } else {
    out += "  backtrace:\n";
    for (size_t i = 0; i < v.backtrace.size(); ++i) {
      absl::StrAppendFormat(&out, "    #%-3d%s\n", static_cast<int>(i),
                            FormatFrameText(v.backtrace[i]));
    }
  }
  absl::StrAppend(&out, "  action:  ", ActionText(v), "\n");
  return out;
}

std::string FormatLineReport(const Violation& v, const TextReportOptions& options) {
  std::string out = absl::StrCat("dpsupervise: ", TimeOfDay(v.time_ns), " ",
                                 OrUnknown(v.thread_name), "/", v.tid, " ", WhatItDid(v), " ");
  if (v.backtrace.empty()) {
    absl::StrAppend(&out, "at ", Hex(v.regs.rip));
  } else {
    out += FormatFrameLocation(v.backtrace[0]);
  }
  absl::StrAppend(&out, " -> ", EscSafe(v.action), "\n");
  if (options.registers) AppendRegisters(v.regs, &out);
  return out;
}

std::string FormatJsonReport(const Violation& v) {
  Json j = Json::object();
  j["type"] = "violation";
  j["time_ns"] = v.time_ns;
  j["kind"] = ViolationKindName(v.kind);
  j["pid"] = v.pid;
  j["tid"] = v.tid;
  j["thread"] = v.thread_name;
  j["process"] = v.process_name;
  j["cpu"] = v.cpu < 0 ? Json(nullptr) : Json(v.cpu);
  j["pc"] = Hex(v.regs.rip);
  switch (v.kind) {
    case ViolationKind::kSyscall:
      j["syscall"] = SyscallJson(v.syscall);
      break;
    case ViolationKind::kPageFault: {
      Json fault = Json::object();
      fault["address"] =
          v.signal.has_fault_address ? Json(Hex(v.signal.fault_address)) : Json(nullptr);
      fault["access"] = v.signal.access;
      fault["context"] = FaultContextJson(v.signal.fault_context);
      j["fault"] = std::move(fault);
      break;
    }
    case ViolationKind::kTrap:
    case ViolationKind::kSignal:
      j["signal"] = SignalJson(v.signal);
      break;
    case ViolationKind::kIpi:
    case ViolationKind::kIrq:
    case ViolationKind::kTimer:
    case ViolationKind::kSoftirq:
    case ViolationKind::kPreemption:
    case ViolationKind::kMigration: {
      // The event's own noise record, whole: one definition of its fields.
      Json record = Json::parse(v.interruption.noise_record, nullptr, /*allow_exceptions=*/false);
      j["interruption"] = record.is_discarded() ? Json(nullptr) : std::move(record);
      break;
    }
  }
  j["note"] = StringOrNull(v.note);
  j["registers"] = RegistersJson(v.regs);
  Json frames = Json::array();
  for (const Frame& f : v.backtrace) frames.push_back(FrameJson(f));
  j["backtrace"] = std::move(frames);
  j["backtrace_error"] = StringOrNull(v.backtrace_error);
  j["action"] = v.action;
  j["action_detail"] = v.action_detail;
  return DumpLine(j);
}

std::string FormatTextSummary(const RunSummary& s) {
  std::string out = absl::StrCat("dpsupervise: summary: ", s.total_violations,
                                 s.total_violations == 1 ? " violation" : " violations",
                                 ", exit status ", s.exit_status, "\n");
  if (s.threads.empty()) {
    out += "  no thread entered strict mode\n";
    return out;
  }
  if (!s.call_sites.empty()) out += "  by call site, most first:\n";
  for (const CallSiteCount& c : s.call_sites) {
    absl::StrAppendFormat(&out, "  %8lld  %-10s %-16s %s\n", c.count, c.kind, Esc(c.call),
                          c.site);
  }
  for (const ThreadSummary& t : s.threads) {
    absl::StrAppend(&out, "  thread ", t.tid, " (", OrUnknown(t.thread_name), "), process ", t.pid,
                    ", ", t.cpu < 0 ? "cpu unknown" : absl::StrCat("cpu ", t.cpu), "\n");
    absl::StrAppendFormat(&out, "    strict:           %.6f s in %d %s\n", t.strict_seconds,
                          t.strict_entries, t.strict_entries == 1 ? "entry" : "entries");
    long long total = 0;
    for (const auto& [kind, n] : t.violations) total += n;
    std::string by_kind;
    for (ViolationKind each : kAllViolationKinds) {
      const char* kind = ViolationKindName(each);
      auto it = t.violations.find(kind);
      // Interruptions are violations only where acted on: named when seen.
      if (IsInterruptionKind(each) && it == t.violations.end()) continue;
      absl::StrAppend(&by_kind, by_kind.empty() ? "" : ", ", kind, " ",
                      it == t.violations.end() ? 0 : it->second);
    }
    for (const auto& [kind, n] : t.violations) {
      if (!ViolationKindFromName(kind)) absl::StrAppend(&by_kind, ", ", Esc(kind), " ", n);
    }
    absl::StrAppend(&out, "    violations:       ", total, " (", by_kind, ")\n");
    if (t.suppressed_signals > 0) {
      absl::StrAppend(&out, "    suppressed:       ", t.suppressed_signals,
                      " ignored signal(s), not violations (discarded natively)\n");
    }
    absl::StrAppend(&out, "    context switches: voluntary ",
                    CounterText(t.voluntary_context_switches), ", involuntary ",
                    CounterText(t.involuntary_context_switches), "\n");
    absl::StrAppend(&out, "    cpu migrations:   ", CounterText(t.cpu_migrations), "\n");
    absl::StrAppend(&out, "    page faults:      minor ", CounterText(t.minor_faults), ", major ",
                    CounterText(t.major_faults), "\n");
    std::string irqs;
    for (const auto& [line, n] : t.interrupts) {
      absl::StrAppend(&irqs, irqs.empty() ? "" : ", ", Esc(line), " ", n);
    }
    absl::StrAppend(&out, "    interrupts:       ", irqs.empty() ? "none" : irqs, "\n");
    absl::StrAppend(&out, "    steal:            ", StealText(t.steal_ns), "\n");
  }
  return out;
}

std::string FormatJsonSummary(const RunSummary& s) {
  Json j = Json::object();
  j["type"] = "summary";
  j["exit_status"] = s.exit_status;
  j["total_violations"] = s.total_violations;
  j["suppressed_signals"] = s.suppressed_signals;
  Json sites = Json::array();
  for (const CallSiteCount& c : s.call_sites) {
    sites.push_back({{"kind", c.kind}, {"call", c.call}, {"site", c.site}, {"count", c.count}});
  }
  j["call_sites"] = std::move(sites);
  Json threads = Json::array();
  for (const ThreadSummary& t : s.threads) {
    Json th = Json::object();
    th["pid"] = t.pid;
    th["tid"] = t.tid;
    th["thread"] = t.thread_name;
    th["cpu"] = t.cpu < 0 ? Json(nullptr) : Json(t.cpu);
    th["strict_seconds"] = t.strict_seconds;
    th["strict_entries"] = t.strict_entries;
    Json violations = Json::object();
    for (ViolationKind kind : kAllViolationKinds) {
      // Interruptions are violations only where acted on: present when seen.
      if (!IsInterruptionKind(kind)) violations[ViolationKindName(kind)] = 0;
    }
    for (const auto& [kind, n] : t.violations) violations[kind] = n;
    th["violations"] = std::move(violations);
    th["suppressed_signals"] = t.suppressed_signals;
    th["voluntary_context_switches"] = CounterOrNull(t.voluntary_context_switches);
    th["involuntary_context_switches"] = CounterOrNull(t.involuntary_context_switches);
    th["cpu_migrations"] = CounterOrNull(t.cpu_migrations);
    th["minor_faults"] = CounterOrNull(t.minor_faults);
    th["major_faults"] = CounterOrNull(t.major_faults);
    Json irqs = Json::object();
    for (const auto& [line, n] : t.interrupts) irqs[line] = n;
    th["interrupts"] = std::move(irqs);
    Json steal = Json::object();
    for (const auto& [cpu, ns] : t.steal_ns) steal[std::to_string(cpu)] = ns;
    th["steal_ns"] = t.steal_ns.empty() ? Json(nullptr) : std::move(steal);
    threads.push_back(std::move(th));
  }
  j["threads"] = std::move(threads);
  return DumpLine(j);
}

Verdict JudgeRun(const RunSummary& summary, int refused_entries,
                 std::optional<int> error_exitcode) {
  Verdict verdict;
  verdict.violations = summary.total_violations;
  verdict.strict_threads = static_cast<int>(summary.threads.size());
  for (const ThreadSummary& thread : summary.threads) {
    long long violations = 0;
    for (const auto& [kind, n] : thread.violations) violations += n;
    if (violations > 0) ++verdict.violating_threads;
  }
  verdict.refused_entries = refused_entries;
  verdict.program_status = summary.exit_status;
  verdict.exit_status =
      error_exitcode && verdict.violations > 0 ? *error_exitcode : summary.exit_status;
  return verdict;
}

namespace {

// "1 violation", "3 violations", "no violations".
std::string Counted(long long n, absl::string_view one, absl::string_view many) {
  if (n == 0) return absl::StrCat("no ", many);
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

}  // namespace

std::string FormatTextVerdict(const Verdict& v) {
  std::string out = "dpsupervise: ";
  if (v.strict_threads == 0) {
    out += "no thread entered strict mode";
  } else {
    absl::StrAppend(&out, Counted(v.violations, "violation", "violations"), " in ");
    if (v.violations > 0 && v.violating_threads < v.strict_threads) {
      absl::StrAppend(&out, v.violating_threads, " of ");
    }
    absl::StrAppend(&out, v.strict_threads,
                    v.strict_threads == 1 ? " strict thread" : " strict threads");
  }
  if (v.refused_entries > 0) {
    absl::StrAppend(&out, "; ", v.refused_entries,
                    v.refused_entries == 1 ? " strict entry refused" : " strict entries refused");
  }
  return out + "\n";
}

std::string FormatJsonVerdict(const Verdict& v) {
  Json j = Json::object();
  j["type"] = "verdict";
  j["violations"] = v.violations;
  j["strict_threads"] = v.strict_threads;
  j["violating_threads"] = v.violating_threads;
  j["refused_entries"] = v.refused_entries;
  j["program_status"] = v.program_status;
  j["exit_status"] = v.exit_status;
  std::string text = FormatTextVerdict(v);
  text.pop_back();
  j["text"] = std::move(text);
  return DumpLine(j);
}

std::string FormatTextSuppressed(const SuppressedReports& s) {
  return absl::StrCat("dpsupervise: ", OrUnknown(s.thread_name), "/", s.tid, ": ", s.suppressed,
                      " more ", s.suppressed == 1 ? "report" : "reports", " of ",
                      ViolationKindName(s.kind), " ", EscSafe(s.site), " suppressed (", s.total,
                      " so far, each acted on)\n");
}

std::string FormatJsonSuppressed(const SuppressedReports& s) {
  Json j = Json::object();
  j["type"] = "suppressed";
  j["time_ns"] = s.time_ns;
  j["kind"] = ViolationKindName(s.kind);
  j["pid"] = s.pid;
  j["tid"] = s.tid;
  j["thread"] = s.thread_name;
  j["site"] = s.site;
  j["suppressed"] = s.suppressed;
  j["total"] = s.total;
  return DumpLine(j);
}

std::string FormatJsonStart(const RunStart& start) {
  Json j = Json::object();
  j["type"] = "start";
  j["schema_version"] = kJsonSchemaVersion;
  j["version"] = start.version;
  j["command"] = start.command;
  j["pid"] = start.supervisor_pid;
  j["program_pid"] = start.program_pid;
  j["attached"] = start.attached;
  j["time_ns"] = start.time_ns;
  return DumpLine(j);
}

ReportWriter::ReportWriter() {
  auto own = OpenOwnStderr(/*nonblocking=*/false);
  // No standard error at all: there is nowhere to report, nor to say so.
  fd_ = own.ok() ? *own : -1;
}

ReportWriter::~ReportWriter() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<std::unique_ptr<ReportWriter>> ReportWriter::OpenFile(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot open report file ", path, ": ",
                                                      strerror(errno)));
  }
  return std::unique_ptr<ReportWriter>(new ReportWriter(fd, path));
}

absl::StatusOr<std::unique_ptr<ReportWriter>> ReportWriter::FromDescriptor(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-fd=", fd, ": descriptor ", fd, " is not open"));
  }
  if ((flags & O_ACCMODE) == O_RDONLY) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-fd=", fd, ": descriptor ", fd, " is not open for writing"));
  }
  const int own = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (own < 0) {
    return absl::InternalError(absl::StrCat("--log-fd=", fd, ": fcntl(F_DUPFD_CLOEXEC): ",
                                            strerror(errno)));
  }
  return std::unique_ptr<ReportWriter>(new ReportWriter(own, absl::StrCat("descriptor ", fd)));
}

void ReportWriter::Write(const std::string& text) {
  if (fd_ < 0) return;
  const int error = WriteFully(fd_, text.data(), text.size());
  if (error != 0) GiveUp(error);
}

void ReportWriter::GiveUp(int error) {
  close(fd_);
  fd_ = -1;
  // Standard error itself failed: there is no one left to tell.
  if (file_.empty()) return;
  const std::string message =
      absl::StrCat("dpsupervise: cannot write reports to ", file_, ": ", strerror(error),
                   "; supervision goes on, later reports are lost\n");
  // One attempt that cannot block: the program may have filled our stderr.
  auto own = OpenOwnStderr(/*nonblocking=*/true);
  if (!own.ok()) return;
  WriteWithoutBlocking(*own, message.data(), message.size());
  close(*own);
}

std::string FormatJsonMessage(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    Json j = Json::object();
    j["type"] = "message";
    j["text"] = text.substr(start, end - start);
    out += DumpLine(j);
    start = end + 1;
  }
  return out;
}

}  // namespace dpsupervise
