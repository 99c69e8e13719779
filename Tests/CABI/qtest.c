/*
 * The fixtures/qtest suites through the C ABI: a small QEMU-`pc`-like board
 * written in C (RAM, port I/O, configuration mechanism #1 at 0xCF8, a host
 * bridge at 00:00.0 and a PIIX3 at 00:01.0 with its PIRQ routing, BAR
 * decoding, an interrupt controller that reports `IRQ raise/lower N`, MSI
 * written to RAM) around libnicsim's cards, and the qtest commands the
 * scripts use. Each script's transcript must equal its NAME.out line for
 * line, as `swift test` and scripts/qtest-diff.py require of nicsim itself.
 *
 *   qtest SCRIPT.qtest...      prints "ok NAME" or the first difference;
 *                              exits 1 when any script differs.
 */
#define _POSIX_C_SOURCE 200809L
#include <nicsim.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ transcript */

static char **lines;
static size_t line_count, line_cap;

static void emit(const char *fmt, ...) {
    char buf[1 << 16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (line_count == line_cap) {
        line_cap = line_cap ? 2 * line_cap : 1024;
        lines = realloc(lines, line_cap * sizeof *lines);
        if (!lines) { perror("realloc"); exit(2); }
    }
    lines[line_count++] = strdup(buf);
}

static void emit_long(char *text) {  /* takes ownership */
    if (line_count == line_cap) {
        line_cap = line_cap ? 2 * line_cap : 1024;
        lines = realloc(lines, line_cap * sizeof *lines);
        if (!lines) { perror("realloc"); exit(2); }
    }
    lines[line_count++] = text;
}

/* ------------------------------------------------------- interrupts (IRQs) */

#define IRQ_LINES 24
static int irq_sources[IRQ_LINES];
static int intercepting;

static void irq_source_changed(int irq, int asserted) {
    if (irq < 0 || irq >= IRQ_LINES) return;
    int before = irq_sources[irq] > 0;
    irq_sources[irq] += asserted ? 1 : -1;
    int after = irq_sources[irq] > 0;
    if (before != after && intercepting) emit("IRQ %s %d", after ? "raise" : "lower", irq);
}

/* A level source on one IRQ (an ISA card's line, an injected set_irq_in line). */
struct source { int irq; int level; };

static void source_set(struct source *s, int level) {
    level = level != 0;
    if (level == s->level) return;
    s->level = level;
    irq_source_changed(s->irq, level);
}

/* PIIX3's PIRQ router: four PIRQ lines, each routed to an IRQ or disabled. */
static uint8_t pirq_route[4];
static int pirq_levels[4];
static struct source pirq_out[4];

static struct source route_output(uint8_t route) {
    struct source s = { (route & 0x80) || route >= IRQ_LINES ? -1 : route, 0 };
    return s;
}

static void pirq_set_route(int p, uint8_t value) {
    if (pirq_out[p].irq >= 0) source_set(&pirq_out[p], 0);
    pirq_route[p] = value;
    pirq_out[p] = route_output(value);
    if (pirq_out[p].irq >= 0) source_set(&pirq_out[p], pirq_levels[p] > 0);
}

static void pirq_pin_changed(int p, int asserted) {
    int before = pirq_levels[p] > 0;
    pirq_levels[p] += asserted ? 1 : -1;
    int after = pirq_levels[p] > 0;
    if (before != after && pirq_out[p].irq >= 0) source_set(&pirq_out[p], after);
}

/* ------------------------------------------- generic config space (HB, PIIX3) */

struct config {
    uint8_t data[256], wmask[256], w1c[256];
};

static void config_init(struct config *c, uint16_t vendor, uint16_t device, uint8_t rev, uint32_t class_code, uint8_t header) {
    memset(c, 0, sizeof *c);
    c->data[0] = vendor; c->data[1] = vendor >> 8; c->data[2] = device; c->data[3] = device >> 8;
    c->data[8] = rev; c->data[9] = class_code; c->data[10] = class_code >> 8; c->data[11] = class_code >> 16;
    c->data[0x0E] = header;
    c->wmask[4] = 0x47; c->wmask[5] = 0x05;   /* I/O, memory, bus master, parity, SERR, interrupt disable */
    c->w1c[6] = 0x00; c->w1c[7] = 0xF9;
    c->wmask[0x0C] = 0xFF; c->wmask[0x0D] = 0xFF; c->wmask[0x3C] = 0xFF;
}

static uint32_t config_read(struct config *c, int offset, int width) {
    uint32_t mask = width == 4 ? 0xFFFFFFFFu : (1u << (8 * width)) - 1;
    if (offset < 0 || offset + width > 256) return mask;
    uint32_t v = 0;
    for (int i = 0; i < width; i++) v |= (uint32_t)c->data[offset + i] << (8 * i);
    return v;
}

static void config_write(struct config *c, int offset, int width, uint32_t value) {
    if (offset < 0 || offset + width > 256) return;
    for (int i = 0; i < width; i++) {
        int o = offset + i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        uint8_t nb = (uint8_t)((c->data[o] & ~c->wmask[o]) | (b & c->wmask[o]));
        nb &= (uint8_t)~(b & c->w1c[o]);
        c->data[o] = nb;
    }
}

/* ------------------------------------------------------------- the board */

#define MAX_NICS 8
#define QUEUE_CAP 64

enum kind { NONE, HOST_BRIDGE, PIIX3, NIC };

struct bar { int present, io, is64; uint64_t size; int mapped; uint64_t base; };

struct frame { uint8_t *bytes; size_t len; };

struct nic {
    nicsim_device *dev;
    char driver[32], netdev[32];
    int pci, slot, fn, isa_base, isa_irq;
    struct bar bars[6];
    int intx_level;
    struct source isa_source;
    int holds;                       /* virtio-net's port holds frames it has no room for */
    struct frame queue[QUEUE_CAP];
    int queue_head, queue_count;
    int64_t deadline;
};

static uint8_t *ram;
static uint64_t ram_size;
static struct nic nics[MAX_NICS];
static int nic_count;
static struct nic *wired;
static struct config host_bridge, piix3;
static uint32_t cf8;
static uint64_t now_ns;
static struct frame sent[256];
static int sent_head, sent_count;
static struct source injected[IRQ_LINES];
static int injected_made[IRQ_LINES];

static struct nic *nic_at(int slot, int fn) {
    for (int i = 0; i < nic_count; i++)
        if (nics[i].pci && nics[i].slot == slot && nics[i].fn == fn) return &nics[i];
    return NULL;
}

static enum kind function_at(int slot, int fn) {
    if (slot == 0 && fn == 0) return HOST_BRIDGE;
    if (slot == 1 && fn == 0) return PIIX3;
    return nic_at(slot, fn) ? NIC : NONE;
}

/* Is [base, base+size) free of every other decoded BAR of the same space? */
static int space_free(int io, uint64_t base, uint64_t size, const struct nic *self, int self_bar) {
    uint64_t end = base + size;
    if (io && (end > 0x10000 || end < base)) return 0;
    if (!io && end < base && end != 0) return 0;
    if (io && base < 0xD00 && end > 0xCF8) return 0;   /* the host bridge's ports */
    for (int i = 0; i < nic_count; i++) {
        const struct nic *n = &nics[i];
        if (!n->pci) {
            if (io && n->isa_base < (int64_t)end && base < (uint64_t)n->isa_base + 32) return 0;
            continue;
        }
        for (int b = 0; b < 6; b++) {
            const struct bar *x = &n->bars[b];
            if ((n == self && b == self_bar) || !x->mapped || x->io != io) continue;
            if (x->base < end && base < x->base + x->size) return 0;
        }
    }
    return 1;
}

/* The Board's decode: a BAR is decoded when it has an address and its space is enabled. */
static void update_decode(struct nic *n) {
    uint32_t command = nicsim_config_read(n->dev, 4, 2);
    for (int b = 0; b < 6; b++) {
        struct bar *x = &n->bars[b];
        if (!x->present) continue;
        uint64_t raw = nicsim_config_read(n->dev, 0x10 + 4 * b, 4);
        uint64_t base = x->io ? raw & ~3ull : raw & ~0xFull;
        if (x->is64) base |= (uint64_t)nicsim_config_read(n->dev, 0x14 + 4 * b, 4) << 32;
        int enabled = x->io ? command & 1 : command & 2;
        int want = base != 0 && enabled;
        if (x->mapped && want && x->base == base) continue;
        x->mapped = 0;
        if (want && space_free(x->io, base, x->size, n, b)) {
            x->mapped = 1;
            x->base = base;
        }
    }
}

/* Finds the BAR (or ISA window) claiming [addr, addr+width). */
static struct nic *claim(int io, uint64_t addr, int width, int *bar, uint64_t *offset) {
    for (int i = 0; i < nic_count; i++) {
        struct nic *n = &nics[i];
        if (!n->pci) {
            if (io && addr >= (uint64_t)n->isa_base && addr < (uint64_t)n->isa_base + 32) {
                if (addr - n->isa_base + width > 32) return NULL;
                *bar = 0; *offset = addr - n->isa_base;
                return n;
            }
            continue;
        }
        for (int b = 0; b < 6; b++) {
            struct bar *x = &n->bars[b];
            if (!x->mapped || x->io != io || addr < x->base || addr - x->base >= x->size) continue;
            if (addr - x->base + width > x->size) return NULL;
            *bar = b; *offset = addr - x->base;
            return n;
        }
    }
    return NULL;
}

static int mmio_mapped(uint64_t addr) {
    int bar; uint64_t off;
    for (int i = 0; i < nic_count; i++) {
        struct nic *n = &nics[i];
        if (!n->pci) continue;
        for (int b = 0; b < 6; b++) {
            struct bar *x = &n->bars[b];
            if (x->mapped && !x->io && addr >= x->base && addr - x->base < x->size) return 1;
        }
    }
    (void)bar; (void)off;
    return 0;
}

static int touches_mmio(uint64_t addr, uint64_t count) {
    uint64_t last = addr + count < addr ? UINT64_MAX : addr + count;
    for (int i = 0; i < nic_count; i++) {
        struct nic *n = &nics[i];
        if (!n->pci) continue;
        for (int b = 0; b < 6; b++) {
            struct bar *x = &n->bars[b];
            if (x->mapped && !x->io && x->base < last && addr < x->base + x->size) return 1;
        }
    }
    return 0;
}

static uint64_t width_mask(int width) { return width == 8 ? ~0ull : (1ull << (8 * width)) - 1; }

/* --------------------------------------------------------- configuration */

static uint32_t pci_config_read(int slot, int fn, int offset, int width) {
    switch (function_at(slot, fn)) {
    case HOST_BRIDGE: return config_read(&host_bridge, offset, width);
    case PIIX3: return config_read(&piix3, offset, width);
    case NIC: return nicsim_config_read(nic_at(slot, fn)->dev, (uint32_t)offset, (unsigned)width);
    default: return (uint32_t)width_mask(width);
    }
}

static uint8_t piix3_route(uint8_t value) {
    static const uint8_t routable[] = { 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15 };
    uint8_t irq = value & 0x0F;
    if (value & 0x80) return 0x80;
    for (size_t i = 0; i < sizeof routable; i++) if (routable[i] == irq) return irq;
    return 0x80;
}

static void pci_config_write(int slot, int fn, int offset, int width, uint32_t value) {
    switch (function_at(slot, fn)) {
    case HOST_BRIDGE: config_write(&host_bridge, offset, width, value); break;
    case PIIX3: {
        config_write(&piix3, offset, width, value);
        int end = offset + (width > 4 ? 4 : width);
        for (int p = 0; p < 4; p++) {
            int reg = 0x60 + p;
            if (reg >= offset && reg < end) pirq_set_route(p, piix3_route(piix3.data[reg]));
        }
        break;
    }
    case NIC: {
        struct nic *n = nic_at(slot, fn);
        nicsim_config_write(n->dev, (uint32_t)offset, (unsigned)width, value);
        update_decode(n);
        break;
    }
    default: break;
    }
}

/* ------------------------------------------------------------- port I/O */

static uint64_t io_read(uint64_t port, int width) {
    if (port >= 0xCF8 && port + width <= 0xD00) {
        uint64_t off = port - 0xCF8;
        if (off < 4) return off == 0 && width == 4 ? cf8 : width_mask(width);
        if (!(cf8 & 0x80000000u) || ((cf8 >> 16) & 0xFF) != 0) return width_mask(width);
        return pci_config_read((cf8 >> 11) & 0x1F, (cf8 >> 8) & 7, (int)(cf8 & 0xFC) + (int)(off - 4), width);
    }
    int bar; uint64_t off;
    struct nic *n = claim(1, port, width, &bar, &off);
    if (!n) return width_mask(width);
    return nicsim_bar_read(n->dev, bar, off, (unsigned)width) & width_mask(width);
}

static void io_write(uint64_t port, int width, uint64_t value) {
    if (port >= 0xCF8 && port + width <= 0xD00) {
        uint64_t off = port - 0xCF8;
        if (off < 4) {
            if (off == 0 && width == 4) cf8 = (uint32_t)value & 0x80FFFFFCu;
            return;
        }
        if (!(cf8 & 0x80000000u) || ((cf8 >> 16) & 0xFF) != 0) return;
        pci_config_write((cf8 >> 11) & 0x1F, (cf8 >> 8) & 7, (int)(cf8 & 0xFC) + (int)(off - 4), width, (uint32_t)value);
        return;
    }
    int bar; uint64_t off;
    struct nic *n = claim(1, port, width, &bar, &off);
    if (n) nicsim_bar_write(n->dev, bar, off, (unsigned)width, value & width_mask(width));
}

/* --------------------------------------------------------------- memory */

static int in_ram(uint64_t addr, uint64_t n) { return addr <= ram_size && n <= ram_size - addr; }

static uint8_t read_byte(uint64_t addr) {
    if (!mmio_mapped(addr) && in_ram(addr, 1)) return ram[addr];
    int bar; uint64_t off;
    struct nic *n = claim(0, addr, 1, &bar, &off);
    return n ? (uint8_t)nicsim_bar_read(n->dev, bar, off, 1) : 0xFF;
}

static void write_byte(uint64_t addr, uint8_t v) {
    if (!mmio_mapped(addr) && in_ram(addr, 1)) { ram[addr] = v; return; }
    int bar; uint64_t off;
    struct nic *n = claim(0, addr, 1, &bar, &off);
    if (n) nicsim_bar_write(n->dev, bar, off, 1, v);
}

static uint64_t room_above(uint64_t addr) { return UINT64_MAX - addr >= (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : UINT64_MAX - addr + 1; }

static uint64_t mem_read(uint64_t addr, int width) {
    if (!touches_mmio(addr, (uint64_t)width) && in_ram(addr, (uint64_t)width)) {
        uint64_t v = 0;
        for (int i = 0; i < width; i++) v |= (uint64_t)ram[addr + i] << (8 * i);
        return v;
    }
    if (mmio_mapped(addr)) {
        int bar; uint64_t off;
        struct nic *n = claim(0, addr, width, &bar, &off);
        return n ? nicsim_bar_read(n->dev, bar, off, (unsigned)width) & width_mask(width) : width_mask(width);
    }
    uint64_t v = width_mask(width), room = room_above(addr);
    for (int i = 0; i < width && (uint64_t)i < room; i++) {
        v &= ~(0xFFull << (8 * i));
        v |= (uint64_t)read_byte(addr + i) << (8 * i);
    }
    return v;
}

static void mem_write(uint64_t addr, int width, uint64_t value) {
    if (!touches_mmio(addr, (uint64_t)width) && in_ram(addr, (uint64_t)width)) {
        for (int i = 0; i < width; i++) ram[addr + i] = (uint8_t)(value >> (8 * i));
        return;
    }
    if (mmio_mapped(addr)) {
        int bar; uint64_t off;
        struct nic *n = claim(0, addr, width, &bar, &off);
        if (n) nicsim_bar_write(n->dev, bar, off, (unsigned)width, value);
        return;
    }
    uint64_t room = room_above(addr);
    for (int i = 0; i < width && (uint64_t)i < room; i++) write_byte(addr + i, (uint8_t)(value >> (8 * i)));
}

static void mem_read_bytes(uint64_t addr, uint64_t count, uint8_t *out) {
    if (!touches_mmio(addr, count) && in_ram(addr, count)) { memcpy(out, ram + addr, count); return; }
    memset(out, 0xFF, count);
    uint64_t room = room_above(addr);
    for (uint64_t i = 0; i < count && i < room; i++) out[i] = read_byte(addr + i);
}

static void mem_write_bytes(uint64_t addr, uint64_t count, const uint8_t *in) {
    if (!touches_mmio(addr, count) && in_ram(addr, count)) { memcpy(ram + addr, in, count); return; }
    uint64_t room = room_above(addr);
    for (uint64_t i = 0; i < count && i < room; i++) write_byte(addr + i, in[i]);
}

/* ------------------------------------------------------------ callbacks */

static int cb_dma_read(void *opaque, uint64_t addr, void *buf, size_t len) {
    (void)opaque;
    if (!in_ram(addr, len)) return -1;
    memcpy(buf, ram + addr, len);
    return 0;
}

static int cb_dma_write(void *opaque, uint64_t addr, const void *buf, size_t len) {
    (void)opaque;
    if (!in_ram(addr, len)) return -1;
    memcpy(ram + addr, buf, len);
    return 0;
}

static void cb_set_irq(void *opaque, int level) {
    struct nic *n = opaque;
    level = level != 0;
    if (!n->pci) { source_set(&n->isa_source, level); return; }
    if (level == n->intx_level) return;
    n->intx_level = level;
    pirq_pin_changed((n->slot + 3) & 3, level);   /* INTA of slot N on PIRQ (N+3) mod 4, as PIIX3 wires it */
}

/* An MSI is the function's DWORD write as bus master: into RAM (nothing else is visible to qtest). */
static void cb_msi(void *opaque, uint64_t address, uint32_t data) {
    struct nic *n = opaque;
    if (!(nicsim_config_read(n->dev, 4, 2) & 4) || !in_ram(address, 4)) return;
    for (int i = 0; i < 4; i++) ram[address + i] = (uint8_t)(data >> (8 * i));
}

static void cb_transmit(void *opaque, const void *frame, size_t len) {
    struct nic *n = opaque;
    if (n != wired || sent_count == 256) return;
    struct frame *f = &sent[(sent_head + sent_count++) % 256];
    f->bytes = malloc(len ? len : 1);
    memcpy(f->bytes, frame, len);
    f->len = len;
}

/* --------------------------------------------------------- the wire side */

static void pump(struct nic *n) {
    while (n->queue_count > 0) {
        struct frame *f = &n->queue[n->queue_head];
        if (nicsim_receive(n->dev, f->bytes, f->len) == -1) break;
        free(f->bytes);
        n->queue_head = (n->queue_head + 1) % QUEUE_CAP;
        n->queue_count--;
    }
}

static void run_until_idle(void) {
    for (int i = 0; i < nic_count; i++) pump(&nics[i]);
}

static void offer(struct nic *n, const uint8_t *frame, size_t len) {
    if (n->holds && n->queue_count > 0) goto hold;
    if (nicsim_receive(n->dev, frame, len) != -1 || !n->holds) return;
hold:
    if (n->queue_count == QUEUE_CAP || len > 9216) return;
    struct frame *f = &n->queue[(n->queue_head + n->queue_count++) % QUEUE_CAP];
    f->bytes = malloc(len ? len : 1);
    memcpy(f->bytes, frame, len);
    f->len = len;
}

/* ----------------------------------------------------------------- time */

static int64_t next_deadline(void) {
    int64_t best = -1;
    for (int i = 0; i < nic_count; i++) {
        int64_t d = nicsim_advance(nics[i].dev, (int64_t)now_ns);
        if (d >= 0 && (best < 0 || d < best)) best = d;
    }
    return best;
}

static void advance_by(uint64_t ns) {
    run_until_idle();
    uint64_t end = now_ns + ns < now_ns ? UINT64_MAX : now_ns + ns;
    for (;;) {
        int64_t best = -1;
        struct nic *who = NULL;
        for (int i = 0; i < nic_count; i++) {
            int64_t d = nicsim_advance(nics[i].dev, (int64_t)now_ns);
            if (d >= 0 && (uint64_t)d <= end && (best < 0 || d < best)) { best = d; who = &nics[i]; }
        }
        if (!who) break;
        if ((uint64_t)best > now_ns) now_ns = (uint64_t)best;
        nicsim_advance(who->dev, (int64_t)now_ns);
        run_until_idle();
    }
    now_ns = end;
    for (int i = 0; i < nic_count; i++) nicsim_advance(nics[i].dev, (int64_t)(now_ns > INT64_MAX ? INT64_MAX : now_ns));
    run_until_idle();
}

/* ------------------------------------------------------------- commands */

/* QEMU's number rule: the whole word, decimal, 0x hex or 0 octal, an optional sign. */
static int parse_unsigned(const char *w, uint64_t *out) {
    if (!w || !*w) return 0;
    const char *s = w;
    while (*s == ' ' || (*s >= 9 && *s <= 13)) s++;
    int negative = 0;
    if (*s == '+' || *s == '-') { negative = *s == '-'; s++; }
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (!isxdigit((unsigned char)s[2])) return 0;
        base = 16; s += 2;
    } else if (s[0] == '0') {
        base = 8;
    }
    if (!*s) return 0;
    uint64_t v = 0;
    for (; *s; s++) {
        int d;
        if (*s >= '0' && *s <= '9') d = *s - '0';
        else if (*s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
        else return 0;
        if (d >= base) return 0;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) return 0;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = negative ? 0 - v : v;
    return 1;
}

static int parse_signed(const char *w, int64_t *out) {
    const char *s = w;
    while (*s == ' ' || *s == '\t') s++;
    int negative = 0;
    if (*s == '+' || *s == '-') { negative = *s == '-'; s++; }
    if (*s == '+' || *s == '-' || !*s) return 0;
    uint64_t m;
    if (!parse_unsigned(s, &m)) return 0;
    if (negative) {
        if (m > (uint64_t)INT64_MAX + 1) return 0;
        *out = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
    } else {
        if (m > (uint64_t)INT64_MAX) return 0;
        *out = (int64_t)m;
    }
    return 1;
}

static int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int width_of(const char *name) {
    switch (name[strlen(name) - 1]) {
    case 'b': return 1;
    case 'w': return 2;
    case 'q': return 8;
    default: return 4;
    }
}

#define MAX_TRANSFER (64ull << 20)

static void command(char *line) {
    char *words[8];
    int count = 0;
    /* Split on single spaces, keeping empty words as QEMU does. */
    char *p = line;
    words[count++] = p;
    while ((p = strchr(p, ' ')) && count < 8) { *p++ = 0; words[count++] = p; }
    const char *name = words[0];
    int cursor = 1;
#define WORD() (cursor < count ? words[cursor++] : NULL)
#define MISSING() do { emit("FAIL %s: missing argument", name); return; } while (0)
#define UNSIGNED(var) do { const char *w_ = WORD(); if (!w_) MISSING(); if (!parse_unsigned(w_, &(var))) { emit("FAIL %s: invalid number '%s'", name, w_); return; } } while (0)
#define SIGNED(var) do { const char *w_ = WORD(); if (!w_) MISSING(); if (!parse_signed(w_, &(var))) { emit("FAIL %s: invalid number '%s'", name, w_); return; } } while (0)
#define PORT(var) do { UNSIGNED(var); if ((var) > 0xFFFF) { emit("FAIL %s: port 0x%llx is above 0xffff", name, (unsigned long long)(var)); return; } } while (0)

    if (!strcmp(name, "outb") || !strcmp(name, "outw") || !strcmp(name, "outl")) {
        uint64_t port, value;
        PORT(port); UNSIGNED(value);
        int w = width_of(name);
        io_write(port, w, value & width_mask(w));
        emit("OK");
    } else if (!strcmp(name, "inb") || !strcmp(name, "inw") || !strcmp(name, "inl")) {
        uint64_t port;
        PORT(port);
        emit("OK 0x%04llx", (unsigned long long)io_read(port, width_of(name)));
    } else if (!strcmp(name, "writeb") || !strcmp(name, "writew") || !strcmp(name, "writel") || !strcmp(name, "writeq")) {
        uint64_t a, v;
        UNSIGNED(a); UNSIGNED(v);
        int w = width_of(name);
        mem_write(a, w, v & width_mask(w));
        emit("OK");
    } else if (!strcmp(name, "readb") || !strcmp(name, "readw") || !strcmp(name, "readl") || !strcmp(name, "readq")) {
        uint64_t a;
        UNSIGNED(a);
        emit("OK 0x%016llx", (unsigned long long)mem_read(a, width_of(name)));
    } else if (!strcmp(name, "read") || !strcmp(name, "b64read")) {
        uint64_t a, n;
        UNSIGNED(a); UNSIGNED(n);
        if (!strcmp(name, "read") && n == 0) { emit("FAIL read: length must not be zero"); return; }
        if (n > MAX_TRANSFER) { emit("FAIL %s: length above %llu bytes", name, (unsigned long long)MAX_TRANSFER); return; }
        uint8_t *bytes = malloc(n ? n : 1);
        mem_read_bytes(a, n, bytes);
        char *text = malloc(8 + 2 * n + 4 * (n / 3 + 1));
        if (!strcmp(name, "read")) {
            strcpy(text, "OK 0x");
            for (uint64_t i = 0; i < n; i++) sprintf(text + 5 + 2 * i, "%02x", bytes[i]);
        } else {
            char *o = text + sprintf(text, "OK ");
            for (uint64_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)bytes[i] << 16 | (i + 1 < n ? (uint32_t)bytes[i + 1] << 8 : 0) | (i + 2 < n ? bytes[i + 2] : 0);
                *o++ = b64[v >> 18 & 63]; *o++ = b64[v >> 12 & 63];
                *o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
                *o++ = i + 2 < n ? b64[v & 63] : '=';
            }
            *o = 0;
        }
        free(bytes);
        emit_long(text);
    } else if (!strcmp(name, "write") || !strcmp(name, "b64write")) {
        uint64_t a, n;
        UNSIGNED(a); UNSIGNED(n);
        const char *data = WORD();
        if (!data) MISSING();
        if (strlen(data) < 3) { emit("ERR invalid argument size"); return; }
        size_t dl = strlen(data), have = 0;
        uint8_t *bytes = malloc(dl + 1);
        if (!strcmp(name, "write")) {
            if (data[0] != '0' || (data[1] | 0x20) != 'x') { free(bytes); emit("FAIL write: invalid data"); return; }
            size_t i = 2;
            for (; i + 1 < dl; i += 2) {
                int hi = nibble(data[i]), lo = nibble(data[i + 1]);
                if (hi < 0 || lo < 0) { free(bytes); emit("FAIL write: invalid data"); return; }
                bytes[have++] = (uint8_t)(hi << 4 | lo);
            }
            if (i < dl && nibble(data[i]) < 0) { free(bytes); emit("FAIL write: invalid data"); return; }
        } else {
            uint32_t acc = 0; int bits = 0;
            for (size_t i = 0; i < dl; i++) {
                if (data[i] == '=') break;
                const char *q = strchr(b64, data[i]);
                if (!q || !data[i]) { free(bytes); emit("FAIL b64write: invalid data"); return; }
                acc = acc << 6 | (uint32_t)(q - b64); bits += 6;
                if (bits >= 8) { bits -= 8; bytes[have++] = (uint8_t)(acc >> bits); }
            }
        }
        if (n > MAX_TRANSFER) { free(bytes); emit("FAIL write: length above %llu bytes", (unsigned long long)MAX_TRANSFER); return; }
        uint8_t *full = calloc(n ? n : 1, 1);
        memcpy(full, bytes, have < n ? have : n);
        mem_write_bytes(a, n, full);
        free(full);
        free(bytes);
        emit("OK");
    } else if (!strcmp(name, "memset")) {
        uint64_t a, n, v;
        UNSIGNED(a); UNSIGNED(n); UNSIGNED(v);
        if (n > MAX_TRANSFER) { emit("FAIL memset: length above %llu bytes", (unsigned long long)MAX_TRANSFER); return; }
        uint8_t *full = malloc(n ? n : 1);
        memset(full, (int)(uint8_t)v, n);
        mem_write_bytes(a, n, full);
        free(full);
        emit("OK");
    } else if (!strcmp(name, "clock_step")) {
        if (cursor < count) {
            int64_t ns;
            SIGNED(ns);
            if (ns > 0) advance_by((uint64_t)ns);
        } else {
            int64_t next = next_deadline();
            if (next >= 0 && (uint64_t)next > now_ns) advance_by((uint64_t)next - now_ns);
            else if (next >= 0) advance_by(0);
        }
        emit("OK %llu", (unsigned long long)now_ns);
    } else if (!strcmp(name, "clock_set")) {
        int64_t ns;
        SIGNED(ns);
        if (ns > 0 && (uint64_t)ns > now_ns) advance_by((uint64_t)ns - now_ns);
        emit("OK %llu", (unsigned long long)now_ns);
    } else if (!strcmp(name, "endianness")) {
        emit("OK little");
    } else if (!strcmp(name, "irq_intercept_in") || !strcmp(name, "irq_intercept_out")) {
        const char *path = WORD();
        if (!path) MISSING();
        size_t pl = strlen(path);
        int ioapic = !strcmp(path, "ioapic") || (pl >= 7 && !strcmp(path + pl - 7, "/ioapic"));
        if (!ioapic) { emit("FAIL Unknown device"); return; }
        if (!strcmp(name, "irq_intercept_in")) { intercepting = 1; emit("OK"); }
        else emit(intercepting ? "FAIL IRQ intercept already enabled" : "FAIL no output GPIOs to intercept");
    } else if (!strcmp(name, "set_irq_in")) {
        const char *path = WORD(), *gpio = WORD();
        int64_t n, level;
        if (!path || !gpio) MISSING();
        SIGNED(n); SIGNED(level);
        size_t pl = strlen(path);
        int ioapic = !strcmp(path, "ioapic") || (pl >= 7 && !strcmp(path + pl - 7, "/ioapic"));
        if (!ioapic) { emit("FAIL Unknown device"); return; }
        if (strcmp(gpio, "unnamed-gpio-in") || n < 0 || n >= IRQ_LINES) { emit("FAIL no such GPIO"); return; }
        if (!injected_made[n]) { injected_made[n] = 1; injected[n].irq = (int)n; injected[n].level = 0; }
        source_set(&injected[n], level != 0);
        emit("OK");
    } else {
        emit("FAIL Unknown command '%s'", name);
    }
}

/* ---------------------------------------------------------------- set-up */

static uint64_t parse_memory(const char *text) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", strncmp(text, "size=", 5) ? text : text + 5);
    char *comma = strchr(buf, ',');
    if (comma) *comma = 0;
    int shift = 20;
    size_t n = strlen(buf);
    if (n && isalpha((unsigned char)buf[n - 1])) {
        switch (toupper((unsigned char)buf[n - 1])) {
        case 'K': shift = 10; break;
        case 'M': shift = 20; break;
        case 'G': shift = 30; break;
        case 'B': shift = 0; break;
        default: return 0;
        }
        buf[n - 1] = 0;
    }
    return strtoull(buf, NULL, 10) << shift;
}

/* Splits QEMU's `driver,key=value,...` (no `,,` escapes are used by the suites). */
static int add_device(char *spec, int *mac_index) {
    struct nic *n = &nics[nic_count];
    memset(n, 0, sizeof *n);
    char options[512] = "", mac[32] = "";
    char *save = NULL, *tok = strtok_r(spec, ",", &save);
    snprintf(n->driver, sizeof n->driver, "%s", tok);
    int slot = -1, fn = 0;
    n->isa_base = 0x300;
    n->isa_irq = 9;
    while ((tok = strtok_r(NULL, ",", &save))) {
        char *eq = strchr(tok, '=');
        const char *key = tok, *value = eq ? eq + 1 : "on";
        if (eq) *eq = 0;
        if (!strcmp(key, "netdev")) snprintf(n->netdev, sizeof n->netdev, "%s", value);
        else if (!strcmp(key, "mac")) snprintf(mac, sizeof mac, "%s", value);
        else if (!strcmp(key, "addr")) { char *dot; slot = (int)strtol(value, &dot, 16); if (*dot == '.') fn = (int)strtol(dot + 1, NULL, 16); }
        else if (!strcmp(key, "iobase")) n->isa_base = (int)strtol(value, NULL, 0);
        else if (!strcmp(key, "irq")) n->isa_irq = (int)strtol(value, NULL, 0);
        else if (!strcmp(key, "disable-legacy") || !strcmp(key, "disable-modern")) {
            size_t l = strlen(options);
            snprintf(options + l, sizeof options - l, ",%s=%s", key, value);
        }
    }
    if (!*mac) snprintf(mac, sizeof mac, "52:54:00:12:34:%02x", (0x56 + (*mac_index)++) & 0xFF);
    char all[600];
    int is_isa = !strcmp(n->driver, "ne2k_isa");
    if (is_isa) snprintf(all, sizeof all, "mac=%s,iobase=%d,irq=%d%s", mac, n->isa_base, n->isa_irq, options);
    else if (!strcmp(n->driver, "virtio-net-pci")) snprintf(all, sizeof all, "mac=%s,csum=off%s", mac, options);
    else snprintf(all, sizeof all, "mac=%s%s", mac, options);
    nicsim_host host = { n, cb_dma_read, cb_dma_write, cb_set_irq, cb_msi, cb_transmit };
    char error[200];
    n->dev = nicsim_create(n->driver, all, &host, error, sizeof error);
    if (!n->dev) { fprintf(stderr, "qtest.c: -device %s: %s\n", n->driver, error); return 0; }
    n->holds = !strcmp(n->driver, "virtio-net-pci");
    n->pci = !is_isa;
    if (is_isa) {
        n->isa_source.irq = n->isa_irq;
    } else {
        if (slot < 0) for (slot = 2; slot < 32 && function_at(slot, 0) != NONE; slot++) {}
        n->slot = slot;
        n->fn = fn;
        /* Size every BAR as firmware does, then leave it unprogrammed (0), as QEMU's qtest machine does. */
        for (int b = 0; b < 6; b++) {
            uint32_t off = 0x10 + 4 * (uint32_t)b;
            nicsim_config_write(n->dev, off, 4, 0xFFFFFFFFu);
            uint32_t r = nicsim_config_read(n->dev, off, 4);
            if (r == 0) continue;
            struct bar *x = &n->bars[b];
            x->present = 1;
            x->io = r & 1;
            if (x->io) {
                x->size = (uint64_t)((~(r & ~3u) + 1) & 0xFFFF);
            } else {
                x->is64 = ((r >> 1) & 3) == 2;
                uint64_t mask = r & ~0xFull;
                if (x->is64) {
                    nicsim_config_write(n->dev, off + 4, 4, 0xFFFFFFFFu);
                    mask |= (uint64_t)nicsim_config_read(n->dev, off + 4, 4) << 32;
                    nicsim_config_write(n->dev, off + 4, 4, 0);
                } else {
                    mask |= 0xFFFFFFFF00000000ull;
                }
                x->size = ~mask + 1;
            }
            nicsim_config_write(n->dev, off, 4, 0);
            if (x->is64) b++;
        }
    }
    nic_count++;
    return 1;
}

static void board_reset(uint64_t memory) {
    for (int i = 0; i < nic_count; i++) {
        nicsim_destroy(nics[i].dev);
        for (int k = 0; k < nics[i].queue_count; k++) free(nics[i].queue[(nics[i].queue_head + k) % QUEUE_CAP].bytes);
    }
    nic_count = 0;
    wired = NULL;
    free(ram);
    ram_size = memory;
    ram = calloc(memory, 1);
    if (!ram) { perror("calloc"); exit(2); }
    memset(irq_sources, 0, sizeof irq_sources);
    memset(injected_made, 0, sizeof injected_made);
    intercepting = 0;
    cf8 = 0;
    now_ns = 0;
    while (sent_count) { free(sent[sent_head].bytes); sent_head = (sent_head + 1) % 256; sent_count--; }
    config_init(&host_bridge, 0x8086, 0x1237, 0x02, 0x060000, 0);
    config_init(&piix3, 0x8086, 0x7000, 0x00, 0x060100, 0x80);
    piix3.data[7] = 0x02;   /* DEVSEL medium */
    static const struct { int off; uint8_t mask; } writable[] = {
        { 0x4C, 0xFF }, { 0x4E, 0xFF }, { 0x4F, 0x03 }, { 0x69, 0xFE }, { 0x70, 0xEF },
        { 0x76, 0x8F }, { 0x77, 0x8F }, { 0x78, 0xFF }, { 0x79, 0xFF }, { 0xA0, 0x1F }, { 0xA8, 0xFF },
        { 0x60, 0x8F }, { 0x61, 0x8F }, { 0x62, 0x8F }, { 0x63, 0x8F },
    };
    for (size_t i = 0; i < sizeof writable / sizeof writable[0]; i++) piix3.wmask[writable[i].off] = writable[i].mask;
    static const struct { int off; uint8_t value; } reset[] = {
        { 0x4C, 0x4D }, { 0x4E, 0x03 }, { 0x69, 0x02 }, { 0x70, 0x80 }, { 0x76, 0x0C }, { 0x77, 0x0C },
        { 0x78, 0x02 }, { 0xA0, 0x08 }, { 0xA8, 0x0F }, { 0x60, 0x80 }, { 0x61, 0x80 }, { 0x62, 0x80 }, { 0x63, 0x80 },
    };
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++) piix3.data[reset[i].off] = reset[i].value;
    for (int p = 0; p < 4; p++) {
        pirq_levels[p] = 0;
        pirq_route[p] = 0x80;
        pirq_out[p] = route_output(0x80);
    }
}

/* ------------------------------------------------------------ a script */

static char *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    fclose(f);
    text[got] = 0;
    if (size) *size = got;
    return text;
}

static void rtrim(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = 0;
}

/* Runs one script; returns 1 when its transcript equals NAME.out. */
static int run_script(const char *path) {
    char *text = slurp(path, NULL);
    if (!text) { fprintf(stderr, "qtest.c: %s: %s\n", path, strerror(errno)); return 0; }
    /* First pass: arguments. */
    char args[4096] = "";
    for (char *l = text; l; ) {
        char *nl = strchr(l, '\n');
        if (!strncmp(l, "#! args:", 8)) {
            size_t len = nl ? (size_t)(nl - l) - 8 : strlen(l + 8);
            strncat(args, l + 8, len < sizeof args - strlen(args) - 2 ? len : 0);
            strcat(args, " ");
        }
        l = nl ? nl + 1 : NULL;
    }
    uint64_t memory = 128ull << 20;
    char *words[64];
    int nw = 0;
    for (char *save = NULL, *w = strtok_r(args, " \r", &save); w && nw < 64; w = strtok_r(NULL, " \r", &save)) words[nw++] = w;
    for (int i = 0; i + 1 < nw; i++) if (!strcmp(words[i], "-m")) memory = parse_memory(words[i + 1]);
    board_reset(memory);
    int mac_index = 0;
    const char *netdevs[8];
    int netdev_count = 0;
    for (int i = 0; i + 1 < nw; i++) {
        if (!strcmp(words[i], "-device")) { if (!add_device(words[i + 1], &mac_index)) return 0; i++; }
        else if (!strcmp(words[i], "-netdev")) {
            char *id = strstr(words[i + 1], "id=");
            if (id && netdev_count < 8) {
                id += 3;
                char *comma = strchr(id, ',');
                if (comma) *comma = 0;
                netdevs[netdev_count++] = id;
            }
            i++;
        }
    }
    /* The wired NIC: the one bound to the first netdev id in sorted order, else the first NIC. */
    const char *first = NULL;
    for (int i = 0; i < netdev_count; i++) if (!first || strcmp(netdevs[i], first) < 0) first = netdevs[i];
    for (int i = 0; i < nic_count && first; i++) if (!strcmp(nics[i].netdev, first)) { wired = &nics[i]; break; }
    if (!wired && nic_count) wired = &nics[0];

    line_count = 0;
    for (char *l = text; l; ) {
        char *nl = strchr(l, '\n');
        if (nl) *nl = 0;
        char *next = nl ? nl + 1 : NULL;
        rtrim(l);
        if (!strncmp(l, "#! args:", 8)) { l = next; continue; }
        char *hash = strchr(l, '#');
        if (hash) { *hash = 0; rtrim(l); }
        if (!*l) { l = next; continue; }
        emit("> %s", l);
        if (!strncmp(l, "%send ", 6)) {
            size_t hl = strlen(l + 6), n = 0;
            uint8_t *frame = malloc(hl / 2 + 1);
            for (size_t i = 6; l[i]; ) {
                if (l[i] == ' ') { i++; continue; }
                frame[n++] = (uint8_t)(nibble(l[i]) << 4 | nibble(l[i + 1]));
                i += 2;
            }
            if (wired) offer(wired, frame, n);
            free(frame);
            run_until_idle();
        } else if (!strcmp(l, "%recv")) {
            if (!sent_count) {
                emit("FRAME none");
            } else {
                struct frame *f = &sent[sent_head];
                char *hex = malloc(7 + 2 * f->len);
                strcpy(hex, "FRAME ");
                for (size_t i = 0; i < f->len; i++) sprintf(hex + 6 + 2 * i, "%02x", f->bytes[i]);
                emit_long(hex);
                free(f->bytes);
                sent_head = (sent_head + 1) % 256;
                sent_count--;
            }
        } else {
            char *copy = strdup(l);
            command(copy);
            free(copy);
            run_until_idle();
        }
        l = next;
    }
    free(text);

    /* Compare with NAME.out. */
    char expected_path[4096];
    snprintf(expected_path, sizeof expected_path, "%.*s.out", (int)(strlen(path) - 6), path);
    char *expected = slurp(expected_path, NULL);
    if (!expected) { fprintf(stderr, "FAIL %s: no %s\n", path, expected_path); return 0; }
    size_t i = 0;
    int ok = 1;
    char *e = expected;
    const char *last_step = "(start)";
    for (; i < line_count; i++) {
        char *nl = strchr(e, '\n');
        if (!nl) { fprintf(stderr, "FAIL %s line %zu after '%s': got '%s', expected (end)\n", path, i + 1, last_step, lines[i]); ok = 0; break; }
        *nl = 0;
        if (strcmp(e, lines[i])) {
            fprintf(stderr, "FAIL %s line %zu after '%s': got '%s', expected '%s'\n", path, i + 1, last_step, lines[i], e);
            ok = 0;
            break;
        }
        if (lines[i][0] == '>') last_step = lines[i];
        e = nl + 1;
    }
    if (ok && *e) { fprintf(stderr, "FAIL %s line %zu: got (end), expected '%.60s'\n", path, i + 1, e); ok = 0; }
    free(expected);
    for (size_t k = 0; k < line_count; k++) free(lines[k]);
    line_count = 0;
    return ok;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: qtest SCRIPT.qtest...\n"); return 2; }
    int passed = 0, failed = 0;
    for (int i = 1; i < argc; i++) {
        if (run_script(argv[i])) { passed++; } else { failed++; }
    }
    board_reset(1);
    printf("qtest.c: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
