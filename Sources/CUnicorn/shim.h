// Unicorn (libunicorn-dev 2.x) for the nicsim x86 machine.
//
// uc_hook_add is variadic, which Swift cannot call, so each hook kind the
// machine uses gets a fixed-argument wrapper here. The instruction budget
// is counted in C so that Swift is entered once per slice, not once per
// instruction.
#ifndef NICSIM_CUNICORN_SHIM_H
#define NICSIM_CUNICORN_SHIM_H

#include <unicorn/unicorn.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

/// Instructions left before the machine's slice callback runs.
typedef struct nicsim_slice {
    uint64_t remaining;
    uint64_t executed;
    void (*expired)(uc_engine *uc, uint64_t address, void *owner);
    void *owner;
    /// Set while an interrupt is pending but masked: end the slice at the
    /// first instruction that runs with IF set (the window of an
    /// STI ... CLI sequence), so the host can take the interrupt there.
    int watch_interrupt_window;
    /// Guest RAM at physical 0 and its size, for recognising RDTSC.
    const uint8_t *ram;
    uint64_t ram_size;
    /// The virtual time stamp counter: `tsc_base` at `tsc_mark` executed
    /// instructions, plus `tsc_per_instruction` for each one since. The
    /// host keeps base and mark in step with the virtual clock.
    uint64_t tsc_base;
    uint64_t tsc_mark;
    uint64_t tsc_per_instruction;
    /// The previous instruction was RDTSC: replace the engine's result
    /// (the host's counter, which would make runs differ) with the
    /// virtual one before the next instruction runs.
    int rdtsc_pending;
} nicsim_slice;

/// The virtual time stamp counter now.
static inline uint64_t nicsim_tsc(const nicsim_slice *s) {
    return s->tsc_base + (s->executed - s->tsc_mark) * s->tsc_per_instruction;
}

static void nicsim_slice_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user) {
    nicsim_slice *s = (nicsim_slice *)user;
    if (s->rdtsc_pending) {
        // Unicorn 2.0 cannot hook RDTSC, so its result is fixed up here,
        // at the instruction after it (RDTSC never branches).
        s->rdtsc_pending = 0;
        uint64_t tsc = nicsim_tsc(s);
        uint64_t lo = tsc & 0xFFFFFFFFu, hi = tsc >> 32;
        uc_reg_write(uc, UC_X86_REG_EAX, &lo);
        uc_reg_write(uc, UC_X86_REG_EDX, &hi);
    }
    // RDTSC is 0F 31 (linear = physical: this machine never enables paging).
    if (size == 2 && address + 1 < s->ram_size && s->ram[address] == 0x0F && s->ram[address + 1] == 0x31) {
        s->rdtsc_pending = 1;
    }
    s->executed++;
    if (s->watch_interrupt_window) {
        uint64_t flags = 0;
        uc_reg_read(uc, UC_X86_REG_EFLAGS, &flags);
        if (flags & 0x200) s->remaining = 1;
    }
    if (--s->remaining == 0) s->expired(uc, address, s->owner);
}

static inline uc_err nicsim_hook_slice(uc_engine *uc, uc_hook *hh, nicsim_slice *s) {
    return uc_hook_add(uc, hh, UC_HOOK_CODE, (void *)nicsim_slice_hook, s, 1, 0);
}

static inline uc_err nicsim_hook_code(uc_engine *uc, uc_hook *hh, uc_cb_hookcode_t cb, void *user,
                                      uint64_t begin, uint64_t end) {
    return uc_hook_add(uc, hh, UC_HOOK_CODE, (void *)cb, user, begin, end);
}

static inline uc_err nicsim_hook_in(uc_engine *uc, uc_hook *hh, uc_cb_insn_in_t cb, void *user) {
    return uc_hook_add(uc, hh, UC_HOOK_INSN, (void *)cb, user, 1, 0, UC_X86_INS_IN);
}

static inline uc_err nicsim_hook_out(uc_engine *uc, uc_hook *hh, uc_cb_insn_out_t cb, void *user) {
    return uc_hook_add(uc, hh, UC_HOOK_INSN, (void *)cb, user, 1, 0, UC_X86_INS_OUT);
}

static inline uc_err nicsim_hook_cpuid(uc_engine *uc, uc_hook *hh, uc_cb_insn_cpuid_t cb, void *user) {
    return uc_hook_add(uc, hh, UC_HOOK_INSN, (void *)cb, user, 1, 0, UC_X86_INS_CPUID);
}

static inline uc_err nicsim_hook_intr(uc_engine *uc, uc_hook *hh, uc_cb_hookintr_t cb, void *user) {
    return uc_hook_add(uc, hh, UC_HOOK_INTR, (void *)cb, user, 1, 0);
}

static inline uc_err nicsim_hook_unmapped(uc_engine *uc, uc_hook *hh, uc_cb_eventmem_t cb, void *user) {
    return uc_hook_add(uc, hh, UC_HOOK_MEM_UNMAPPED, (void *)cb, user, 1, 0);
}

/// Drops translated blocks of [begin, end) after the host wrote code into
/// guest RAM behind the engine's back (uc_ctl is variadic too). A whole
/// flush (UC_CTL_TB_FLUSH) costs seconds; a range costs microseconds.
static inline uc_err nicsim_forget_code(uc_engine *uc, uint64_t begin, uint64_t end) {
    return uc_ctl(uc, UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2), begin, end);
}

// Unicorn 2.0's code generator calls abort() on a few encodings it cannot
// translate (FF /3 and FF /5 with a register operand, a far CALL or JMP
// that a real CPU rejects with #UD), and abort() would end the whole
// process. A guest must not be able to do that, so the machine runs the
// engine through nicsim_emu_start, which catches SIGABRT raised on its
// own thread inside the engine: the call returns with *aborted set, and
// the engine, left mid-translation, is not run again. An abort anywhere
// else goes to the handler that was there before (or the default action).
// Between sigsetjmp and the engine's abort there are only C frames of the
// engine (translation never calls back into the host), so the jump skips
// no Swift code.

// Swift emits a header's functions but not its global variables, so the
// guard's state lives in function-local statics.

/// Where an abort inside the engine returns to, while nicsim_emu_start runs on this thread.
static inline sigjmp_buf **nicsim_engine_abort_target(void) {
    static __thread sigjmp_buf *target;
    return &target;
}

static inline struct sigaction *nicsim_previous_abort_action(void) {
    static struct sigaction previous;
    return &previous;
}

static void nicsim_abort_handler(int sig, siginfo_t *info, void *context) {
    sigjmp_buf *target = *nicsim_engine_abort_target();
    if (target) {
        *nicsim_engine_abort_target() = NULL;
        siglongjmp(*target, 1);
    }
    struct sigaction previous = *nicsim_previous_abort_action();
    if (previous.sa_flags & SA_SIGINFO) {
        if (previous.sa_sigaction) previous.sa_sigaction(sig, info, context);
    } else if (previous.sa_handler == SIG_DFL) {
        signal(SIGABRT, SIG_DFL);
        raise(SIGABRT);
    } else if (previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
    }
}

static void nicsim_install_abort_guard(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = nicsim_abort_handler;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGABRT, &action, nicsim_previous_abort_action());
}

/// uc_emu_start(uc, begin, until, 0, 0), except that an abort() inside the
/// engine ends the call with *aborted = 1 (and UC_ERR_EXCEPTION).
static inline uc_err nicsim_emu_start(uc_engine *uc, uint64_t begin, uint64_t until, int *aborted) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, nicsim_install_abort_guard);
    sigjmp_buf target;
    // Hooks may start the engine again (a nested call); each call restores the outer target.
    sigjmp_buf *volatile outer = *nicsim_engine_abort_target();
    if (sigsetjmp(target, 1)) {
        *nicsim_engine_abort_target() = outer;
        *aborted = 1;
        return UC_ERR_EXCEPTION;
    }
    *nicsim_engine_abort_target() = &target;
    uc_err err = uc_emu_start(uc, begin, until, 0, 0);
    *nicsim_engine_abort_target() = outer;
    *aborted = 0;
    return err;
}

#endif
