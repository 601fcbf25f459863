#include "supervisor/seccomp/bpf_interpreter.h"

#include <linux/filter.h>
#include <string.h>

#include "absl/strings/str_cat.h"

namespace dpsupervise {

absl::StatusOr<uint32_t> RunSeccompFilter(const BpfProgram& program, const seccomp_data& data) {
  uint32_t a = 0, x = 0;
  uint32_t scratch[BPF_MEMWORDS] = {};
  const auto& code = program.instructions;
  auto bad = [](size_t pc, const char* why) {
    return absl::InvalidArgumentError(absl::StrCat("BPF instruction ", pc, ": ", why));
  };
  for (size_t pc = 0; pc < code.size(); ++pc) {
    const sock_filter& in = code[pc];
    switch (BPF_CLASS(in.code)) {
      case BPF_LD:
        if (BPF_MODE(in.code) == BPF_ABS && BPF_SIZE(in.code) == BPF_W) {
          if (in.k % 4 != 0 || in.k + 4 > sizeof(data)) return bad(pc, "load out of range");
          memcpy(&a, reinterpret_cast<const char*>(&data) + in.k, 4);
        } else if (BPF_MODE(in.code) == BPF_IMM) {
          a = in.k;
        } else if (BPF_MODE(in.code) == BPF_MEM) {
          if (in.k >= BPF_MEMWORDS) return bad(pc, "scratch index");
          a = scratch[in.k];
        } else if (BPF_MODE(in.code) == BPF_LEN) {
          a = sizeof(data);
        } else {
          return bad(pc, "unsupported load");
        }
        break;
      case BPF_LDX:
        if (BPF_MODE(in.code) == BPF_IMM) {
          x = in.k;
        } else if (BPF_MODE(in.code) == BPF_MEM && in.k < BPF_MEMWORDS) {
          x = scratch[in.k];
        } else if (BPF_MODE(in.code) == BPF_LEN) {
          x = sizeof(data);
        } else {
          return bad(pc, "unsupported ldx");
        }
        break;
      case BPF_ST:
        if (in.k >= BPF_MEMWORDS) return bad(pc, "scratch index");
        scratch[in.k] = a;
        break;
      case BPF_STX:
        if (in.k >= BPF_MEMWORDS) return bad(pc, "scratch index");
        scratch[in.k] = x;
        break;
      case BPF_ALU: {
        const uint32_t operand = BPF_SRC(in.code) == BPF_X ? x : in.k;
        switch (BPF_OP(in.code)) {
          case BPF_ADD: a += operand; break;
          case BPF_SUB: a -= operand; break;
          case BPF_MUL: a *= operand; break;
          case BPF_DIV:
            if (operand == 0) return static_cast<uint32_t>(SECCOMP_RET_KILL_THREAD);
            a /= operand;
            break;
          case BPF_MOD:
            if (operand == 0) return static_cast<uint32_t>(SECCOMP_RET_KILL_THREAD);
            a %= operand;
            break;
          case BPF_AND: a &= operand; break;
          case BPF_OR: a |= operand; break;
          case BPF_XOR: a ^= operand; break;
          case BPF_LSH: a = operand < 32 ? a << operand : 0; break;
          case BPF_RSH: a = operand < 32 ? a >> operand : 0; break;
          case BPF_NEG: a = -a; break;
          default: return bad(pc, "unsupported alu op");
        }
        break;
      }
      case BPF_JMP: {
        if (BPF_OP(in.code) == BPF_JA) {
          pc += in.k;
        } else {
          const uint32_t operand = BPF_SRC(in.code) == BPF_X ? x : in.k;
          bool taken = false;
          switch (BPF_OP(in.code)) {
            case BPF_JEQ: taken = a == operand; break;
            case BPF_JGT: taken = a > operand; break;
            case BPF_JGE: taken = a >= operand; break;
            case BPF_JSET: taken = (a & operand) != 0; break;
            default: return bad(pc, "unsupported jump");
          }
          pc += taken ? in.jt : in.jf;
        }
        if (pc >= code.size()) return bad(pc, "jump past the end");
        break;
      }
      case BPF_RET:
        return BPF_RVAL(in.code) == BPF_A ? a : in.k;
      case BPF_MISC:
        if (BPF_MISCOP(in.code) == BPF_TAX) {
          x = a;
        } else {
          a = x;
        }
        break;
      default:
        return bad(pc, "unsupported instruction class");
    }
  }
  return absl::InvalidArgumentError("BPF program ends without a return");
}

}  // namespace dpsupervise
