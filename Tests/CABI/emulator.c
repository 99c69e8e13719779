/*
 * A tiny emulator that links libnicsim through its installed header and
 * pkg-config: guest RAM is a byte array, the callbacks of nicsim_host move
 * bytes and record interrupts, and for each PCI model two cards on a
 * loopback wire (A's transmissions are offered to B and back) are
 * programmed as their drivers program them. Every check that fails prints
 * one line and makes the program exit 1; it never skips.
 *
 *   cc -std=c99 -Wall -Wextra -Werror emulator.c $(pkg-config --cflags --libs nicsim)
 */
#include <nicsim.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAM_SIZE (1u << 20)
#define OUTBOX 8

static int failures;

#define CHECK(cond, ...)                                              \
    do {                                                              \
        if (!(cond)) {                                                \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);     \
            fprintf(stderr, __VA_ARGS__);                             \
            fputc('\n', stderr);                                      \
            failures++;                                               \
        }                                                             \
    } while (0)

/* One guest: its RAM, what its card raised, what it put on the wire. */
struct guest {
    const char *name;
    uint8_t ram[RAM_SIZE];
    int irq_level;
    int irq_edges;
    int msi_count;
    uint64_t msi_address;
    uint32_t msi_data;
    uint8_t out[OUTBOX][2048];
    size_t out_len[OUTBOX];
    int out_count;
    nicsim_device *dev;
};

static int dma_read(void *opaque, uint64_t addr, void *buf, size_t len) {
    struct guest *g = opaque;
    if (addr > RAM_SIZE || len > RAM_SIZE - addr) return -1;
    memcpy(buf, g->ram + addr, len);
    return 0;
}

static int dma_write(void *opaque, uint64_t addr, const void *buf, size_t len) {
    struct guest *g = opaque;
    if (addr > RAM_SIZE || len > RAM_SIZE - addr) return -1;
    memcpy(g->ram + addr, buf, len);
    return 0;
}

static void set_irq(void *opaque, int level) {
    struct guest *g = opaque;
    if (level && !g->irq_level) g->irq_edges++;
    g->irq_level = level;
}

static void msi(void *opaque, uint64_t address, uint32_t data) {
    struct guest *g = opaque;
    g->msi_count++;
    g->msi_address = address;
    g->msi_data = data;
}

static void transmit(void *opaque, const void *frame, size_t len) {
    struct guest *g = opaque;
    if (g->out_count == OUTBOX || len > sizeof g->out[0]) return;
    memcpy(g->out[g->out_count], frame, len);
    g->out_len[g->out_count++] = len;
}

static struct guest *guest_new(const char *name, const char *model, const char *options) {
    struct guest *g = calloc(1, sizeof *g);
    if (!g) { perror("calloc"); exit(2); }
    g->name = name;
    nicsim_host host = { g, dma_read, dma_write, set_irq, msi, transmit };
    char error[160];
    g->dev = nicsim_create(model, options, &host, error, sizeof error);
    if (!g->dev) {
        fprintf(stderr, "FAIL nicsim_create(%s, %s): %s\n", model, options, error);
        exit(1);
    }
    return g;
}

static void guest_free(struct guest *g) {
    nicsim_destroy(g->dev);
    free(g);
}

/* The loopback wire: everything `from` sent is offered to `to`. */
static int deliver(struct guest *from, struct guest *to) {
    int taken = 0;
    for (int i = 0; i < from->out_count; i++)
        if (nicsim_receive(to->dev, from->out[i], from->out_len[i]) == 1) taken++;
    from->out_count = 0;
    return taken;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v); put32(p + 4, v >> 32); }
static uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

/* A test frame from `src` to `dst`: ethertype 88B5 (local experimental),
 * then a pattern that says which way it went. */
static size_t make_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint8_t seed) {
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x88; f[13] = 0xB5;
    for (int i = 14; i < 142; i++) f[i] = (uint8_t)(seed + i * 7);
    return 142;
}

static void config_enable(nicsim_device *d) {
    /* I/O space, memory space, bus master. */
    nicsim_config_write(d, 0x04, 2, 0x0007);
}

/* ---------------------------------------------------------------- RTL8139 */

enum { RTL_IDR0 = 0x00, RTL_TSD0 = 0x10, RTL_TSAD0 = 0x20, RTL_RBSTART = 0x30, RTL_CR = 0x37,
       RTL_CAPR = 0x38, RTL_IMR = 0x3C, RTL_ISR = 0x3E, RTL_TCR = 0x40, RTL_RCR = 0x44 };
enum { RTL_RX_RING = 0x10000, RTL_TX_BUF = 0x20000 };

static void rtl_init(struct guest *g, uint8_t *mac) {
    nicsim_device *d = g->dev;
    config_enable(d);
    nicsim_bar_write(d, 0, RTL_CR, 1, 0x10); /* RST */
    CHECK((nicsim_bar_read(d, 0, RTL_CR, 1) & 0x10) == 0, "%s: RST did not clear", g->name);
    for (int i = 0; i < 6; i++) mac[i] = (uint8_t)nicsim_bar_read(d, 0, RTL_IDR0 + i, 1);
    nicsim_bar_write(d, 0, RTL_CR, 1, 0x0C); /* RE | TE */
    nicsim_bar_write(d, 0, RTL_RBSTART, 4, RTL_RX_RING);
    nicsim_bar_write(d, 0, RTL_RCR, 4, 0x0000000A | 0x80); /* APM | AB, WRAP, 8K ring */
    nicsim_bar_write(d, 0, RTL_TCR, 4, 0x03000700);
    nicsim_bar_write(d, 0, RTL_IMR, 2, 0x0005); /* ROK | TOK */
}

/* The chip sends from its four TSAD/TSD slots in turn, so the driver fills them in turn. */
static void rtl_send(struct guest *g, unsigned *slot, const uint8_t *frame, size_t len) {
    unsigned s = (*slot)++ & 3;
    uint32_t buf = RTL_TX_BUF + s * 2048;
    memcpy(g->ram + buf, frame, len);
    nicsim_bar_write(g->dev, 0, RTL_TSAD0 + 4 * s, 4, buf);
    nicsim_bar_write(g->dev, 0, RTL_TSD0 + 4 * s, 4, (uint32_t)len); /* OWN clear: go */
    uint32_t tsd = (uint32_t)nicsim_bar_read(g->dev, 0, RTL_TSD0 + 4 * s, 4);
    CHECK(tsd & (1u << 15), "%s: TSD0 %08x without TOK", g->name, tsd);
    uint16_t isr = (uint16_t)nicsim_bar_read(g->dev, 0, RTL_ISR, 2);
    CHECK(isr & 0x0004, "%s: ISR %04x without TOK", g->name, isr);
    CHECK(g->irq_level == 1, "%s: INTx not asserted after TOK", g->name);
    nicsim_bar_write(g->dev, 0, RTL_ISR, 2, isr);
    CHECK(g->irq_level == 0, "%s: INTx still asserted after ISR write", g->name);
}

/* Takes the next frame out of the receive ring; returns its length (no FCS). */
static size_t rtl_receive(struct guest *g, uint32_t *offset, uint8_t *out) {
    uint16_t isr = (uint16_t)nicsim_bar_read(g->dev, 0, RTL_ISR, 2);
    CHECK(isr & 0x0001, "%s: ISR %04x without ROK", g->name, isr);
    CHECK(g->irq_level == 1, "%s: INTx not asserted after ROK", g->name);
    const uint8_t *hdr = g->ram + RTL_RX_RING + *offset;
    uint16_t status = get16(hdr), len = get16(hdr + 2);
    CHECK(status & 1, "%s: rx header status %04x without ROK", g->name, status);
    size_t n = len >= 4 ? len - 4u : 0;
    memcpy(out, hdr + 4, n);
    *offset = (*offset + len + 4 + 3) & ~3u;
    nicsim_bar_write(g->dev, 0, RTL_CAPR, 2, (*offset - 16) & 0xFFFF);
    nicsim_bar_write(g->dev, 0, RTL_ISR, 2, isr);
    return n;
}

static void test_rtl8139(void) {
    struct guest *a = guest_new("rtl8139 A", "rtl8139", "mac=52:54:00:00:00:0a");
    struct guest *b = guest_new("rtl8139 B", "rtl8139", "mac=52:54:00:00:00:0b");
    uint8_t mac_a[6], mac_b[6], frame[256], got[2048];
    rtl_init(a, mac_a);
    rtl_init(b, mac_b);
    CHECK(mac_a[5] == 0x0a && mac_b[5] == 0x0b, "rtl8139: IDR does not hold the mac= option");
    uint32_t rx_a = 0, rx_b = 0;
    unsigned tx_a = 0, tx_b = 0;
    for (int round = 0; round < 6; round++) {
        size_t len = make_frame(frame, mac_b, mac_a, (uint8_t)round);
        rtl_send(a, &tx_a, frame, len);
        CHECK(a->out_count == 1 && a->out_len[0] == len, "rtl8139: A sent %d frames", a->out_count);
        CHECK(deliver(a, b) == 1, "rtl8139: B refused A's frame");
        size_t n = rtl_receive(b, &rx_b, got);
        CHECK(n == len && memcmp(got, frame, len) == 0, "rtl8139: B received %zu bytes, not A's %zu", n, len);

        len = make_frame(frame, mac_a, mac_b, (uint8_t)(100 + round));
        rtl_send(b, &tx_b, frame, len);
        CHECK(deliver(b, a) == 1, "rtl8139: A refused B's frame");
        n = rtl_receive(a, &rx_a, got);
        CHECK(n == len && memcmp(got, frame, len) == 0, "rtl8139: A received %zu bytes, not B's %zu", n, len);
    }
    /* Snapshot mid-traffic (a frame received and not yet read, the timer
     * running): card C, restored from A's snapshot with a copy of A's RAM
     * (as an emulator migrates it), continues exactly as A does. */
    nicsim_bar_write(a->dev, 0, 0x54, 4, 100000);   /* TimerInt */
    nicsim_advance(a->dev, 1000);
    size_t len, len0 = make_frame(frame, mac_a, mac_b, 200);
    CHECK(nicsim_receive(a->dev, frame, len0) == 1, "rtl8139: A refused the frame before the snapshot");
    struct guest *c = guest_new("rtl8139 C", "rtl8139", "mac=52:54:00:00:00:0c");
    size_t need = nicsim_save(a->dev, NULL, 0);
    uint8_t *snap = malloc(need), *snap_c = malloc(need);
    CHECK(need > 0 && nicsim_save(a->dev, snap, need) == need, "rtl8139: save gave %zu bytes", need);
    memcpy(c->ram, a->ram, RAM_SIZE);
    c->irq_level = a->irq_level;
    CHECK(nicsim_load(c->dev, snap, need) == 0, "rtl8139: C refused A's snapshot");
    CHECK(nicsim_save(c->dev, snap_c, need) == need && memcmp(snap, snap_c, need) == 0, "rtl8139: C's state differs from A's");
    uint32_t rx_c = rx_a;
    unsigned tx_c = tx_a;
    struct guest *pair[2] = { a, c };
    uint32_t *rx[2] = { &rx_a, &rx_c };
    unsigned *tx[2] = { &tx_a, &tx_c };
    uint8_t got2[2][2048];
    size_t n2[2];
    for (int k = 0; k < 2; k++) {
        struct guest *g = pair[k];
        n2[k] = rtl_receive(g, rx[k], got2[k]);
        len = make_frame(frame, mac_b, mac_a, 201);
        g->out_count = 0;
        rtl_send(g, tx[k], frame, len);
        CHECK(g->out_count == 1 && g->out_len[0] == len && memcmp(g->out[0], frame, len) == 0, "%s: sent the wrong frame", g->name);
        /* The next deadline is the timer, the same on both cards' clocks. */
        int64_t next = nicsim_advance(g->dev, 2000);
        CHECK(next > 2000, "%s: next deadline %lld", g->name, (long long)next);
        nicsim_advance(g->dev, next);
        CHECK((nicsim_bar_read(g->dev, 0, RTL_ISR, 2) & 0x4000) != 0, "%s: TimerInt did not fire at its deadline", g->name);
    }
    CHECK(n2[0] == len0 && n2[1] == len0 && memcmp(got2[0], got2[1], len0) == 0, "rtl8139: C received differently");
    CHECK(memcmp(a->ram, c->ram, RAM_SIZE) == 0, "rtl8139: guest RAM differs after the restored transfer");
    CHECK(nicsim_save(a->dev, snap, need) == need && nicsim_save(c->dev, snap_c, need) == need && memcmp(snap, snap_c, need) == 0,
          "rtl8139: A and C ended in different states");
    free(snap);
    free(snap_c);
    guest_free(c);

    /* A frame for someone else is filtered (APM: our address only). */
    uint8_t other[6] = { 0x52, 0x54, 0, 0, 0, 0x77 };
    len = make_frame(frame, other, mac_a, 9);
    CHECK(nicsim_receive(b->dev, frame, len) == 0, "rtl8139: a frame for another MAC was not filtered");
    guest_free(a);
    guest_free(b);
}

/* ------------------------------------------------------------ NE2000 (PCI) */

enum { NE_CR = 0x00, NE_PSTART = 0x01, NE_PSTOP = 0x02, NE_BNRY = 0x03, NE_TPSR = 0x04, NE_TBCR0 = 0x05,
       NE_TBCR1 = 0x06, NE_ISR = 0x07, NE_RSAR0 = 0x08, NE_RSAR1 = 0x09, NE_RBCR0 = 0x0A, NE_RBCR1 = 0x0B,
       NE_RCR = 0x0C, NE_TCR = 0x0D, NE_DCR = 0x0E, NE_IMR = 0x0F, NE_DATA = 0x10, NE_RESET = 0x1F,
       NE_CURR = 0x07 /* page 1 */ };
enum { NE_TX_PAGE = 0x40, NE_RX_START = 0x46, NE_RX_STOP = 0x80 };

static void ne_remote(nicsim_device *d, uint16_t addr, uint16_t count, uint8_t command) {
    nicsim_bar_write(d, 0, NE_RBCR0, 1, count & 0xFF);
    nicsim_bar_write(d, 0, NE_RBCR1, 1, count >> 8);
    nicsim_bar_write(d, 0, NE_RSAR0, 1, addr & 0xFF);
    nicsim_bar_write(d, 0, NE_RSAR1, 1, addr >> 8);
    nicsim_bar_write(d, 0, NE_CR, 1, command);
}

static void ne_init(struct guest *g, uint8_t *mac) {
    nicsim_device *d = g->dev;
    config_enable(d);
    nicsim_bar_write(d, 0, NE_RESET, 1, nicsim_bar_read(d, 0, NE_RESET, 1));
    nicsim_bar_write(d, 0, NE_CR, 1, 0x21);   /* page 0, STP, abort DMA */
    nicsim_bar_write(d, 0, NE_DCR, 1, 0x48);  /* byte-wide, normal, FIFO 8 */
    nicsim_bar_write(d, 0, NE_ISR, 1, 0xFF);
    /* The PROM: 16 bytes, each doubled in byte mode. */
    ne_remote(d, 0, 12, 0x0A);
    for (int i = 0; i < 12; i++) {
        uint8_t v = (uint8_t)nicsim_bar_read(d, 0, NE_DATA, 1);
        if (i % 2 == 0) mac[i / 2] = v;
    }
    nicsim_bar_write(d, 0, NE_ISR, 1, 0xFF);
    nicsim_bar_write(d, 0, NE_RCR, 1, 0x04);  /* AB */
    nicsim_bar_write(d, 0, NE_TCR, 1, 0x00);
    nicsim_bar_write(d, 0, NE_PSTART, 1, NE_RX_START);
    nicsim_bar_write(d, 0, NE_PSTOP, 1, NE_RX_STOP);
    nicsim_bar_write(d, 0, NE_BNRY, 1, NE_RX_START);
    nicsim_bar_write(d, 0, NE_CR, 1, 0x61);   /* page 1 */
    for (int i = 0; i < 6; i++) nicsim_bar_write(d, 0, 0x01 + i, 1, mac[i]);
    nicsim_bar_write(d, 0, NE_CURR, 1, NE_RX_START + 1);
    nicsim_bar_write(d, 0, NE_CR, 1, 0x22);   /* page 0, STA */
    nicsim_bar_write(d, 0, NE_IMR, 1, 0x03);  /* PRX | PTX */
}

static void ne_send(struct guest *g, const uint8_t *frame, size_t len) {
    nicsim_device *d = g->dev;
    ne_remote(d, NE_TX_PAGE << 8, (uint16_t)len, 0x12); /* remote write */
    for (size_t i = 0; i < len; i++) nicsim_bar_write(d, 0, NE_DATA, 1, frame[i]);
    uint8_t isr = (uint8_t)nicsim_bar_read(d, 0, NE_ISR, 1);
    CHECK(isr & 0x40, "%s: ISR %02x without RDC after the remote write", g->name, isr);
    nicsim_bar_write(d, 0, NE_ISR, 1, 0x40);
    nicsim_bar_write(d, 0, NE_TPSR, 1, NE_TX_PAGE);
    nicsim_bar_write(d, 0, NE_TBCR0, 1, len & 0xFF);
    nicsim_bar_write(d, 0, NE_TBCR1, 1, len >> 8);
    nicsim_bar_write(d, 0, NE_CR, 1, 0x26);   /* STA | TXP, no DMA */
    isr = (uint8_t)nicsim_bar_read(d, 0, NE_ISR, 1);
    CHECK(isr & 0x02, "%s: ISR %02x without PTX", g->name, isr);
    CHECK(g->irq_level == 1, "%s: INTx not asserted after PTX", g->name);
    nicsim_bar_write(d, 0, NE_ISR, 1, 0x02);
    CHECK(g->irq_level == 0, "%s: INTx still asserted", g->name);
}

static size_t ne_receive(struct guest *g, uint8_t *out) {
    nicsim_device *d = g->dev;
    uint8_t isr = (uint8_t)nicsim_bar_read(d, 0, NE_ISR, 1);
    CHECK(isr & 0x01, "%s: ISR %02x without PRX", g->name, isr);
    CHECK(g->irq_level == 1, "%s: INTx not asserted after PRX", g->name);
    uint8_t page = (uint8_t)nicsim_bar_read(d, 0, NE_BNRY, 1) + 1;
    if (page >= NE_RX_STOP) page = NE_RX_START;
    uint8_t hdr[4];
    ne_remote(d, (uint16_t)(page << 8), 4, 0x0A);
    for (int i = 0; i < 4; i++) hdr[i] = (uint8_t)nicsim_bar_read(d, 0, NE_DATA, 1);
    size_t len = (size_t)(hdr[2] | hdr[3] << 8);
    CHECK(hdr[0] & 1, "%s: receive status %02x without PRX", g->name, hdr[0]);
    size_t n = len >= 4 ? len - 4 : 0;
    /* The frame follows the header; it may wrap from PSTOP to PSTART. */
    uint16_t addr = (uint16_t)((page << 8) + 4);
    for (size_t i = 0; i < n; i++) {
        if (addr >= NE_RX_STOP << 8) addr = NE_RX_START << 8;
        ne_remote(d, addr++, 1, 0x0A);
        out[i] = (uint8_t)nicsim_bar_read(d, 0, NE_DATA, 1);
    }
    uint8_t next = hdr[1];
    nicsim_bar_write(d, 0, NE_BNRY, 1, next == NE_RX_START ? NE_RX_STOP - 1 : next - 1);
    nicsim_bar_write(d, 0, NE_ISR, 1, 0x41);
    return n;
}

static void test_ne2k_pci(void) {
    struct guest *a = guest_new("ne2k_pci A", "ne2k_pci", "mac=52:54:00:00:01:0a");
    struct guest *b = guest_new("ne2k_pci B", "ne2000", "mac=52:54:00:00:01:0b");
    uint8_t mac_a[6], mac_b[6], frame[256], got[2048];
    ne_init(a, mac_a);
    ne_init(b, mac_b);
    CHECK(mac_a[5] == 0x0a && mac_b[5] == 0x0b, "ne2k_pci: the PROM does not hold the mac= option");
    for (int round = 0; round < 3; round++) {
        size_t len = make_frame(frame, mac_b, mac_a, (uint8_t)round);
        ne_send(a, frame, len);
        CHECK(deliver(a, b) == 1, "ne2k_pci: B refused A's frame");
        size_t n = ne_receive(b, got);
        CHECK(n == len && memcmp(got, frame, len) == 0, "ne2k_pci: B received %zu bytes, not A's %zu", n, len);
        len = make_frame(frame, mac_a, mac_b, (uint8_t)(50 + round));
        ne_send(b, frame, len);
        CHECK(deliver(b, a) == 1, "ne2k_pci: A refused B's frame");
        n = ne_receive(a, got);
        CHECK(n == len && memcmp(got, frame, len) == 0, "ne2k_pci: A received %zu bytes, not B's %zu", n, len);
    }
    guest_free(a);
    guest_free(b);
}

/* A remote-DMA write of a frame is half done when the card is saved; a
 * second card restored from the snapshot finishes it, and both put the
 * same bytes on the wire. A corrupt snapshot is refused, nothing changed. */
static void test_ne2k_snapshot(void) {
    struct guest *a = guest_new("ne2k snapshot A", "ne2k_pci", "mac=52:54:00:00:03:0a");
    struct guest *c = guest_new("ne2k snapshot C", "ne2k_pci", "mac=52:54:00:00:03:0a");
    uint8_t mac[6], mac_c[6], frame[256], dst[6] = { 0x52, 0x54, 0, 0, 3, 0x0b };
    ne_init(a, mac);
    ne_init(c, mac_c);
    size_t len = make_frame(frame, dst, mac, 42), half = len / 2;
    ne_remote(a->dev, NE_TX_PAGE << 8, (uint16_t)len, 0x12);
    for (size_t i = 0; i < half; i++) nicsim_bar_write(a->dev, 0, NE_DATA, 1, frame[i]);

    size_t need = nicsim_save(a->dev, NULL, 0);
    CHECK(need > 32 * 1024, "ne2k: snapshot of %zu bytes is smaller than packet memory", need);
    uint8_t *snap = malloc(need), *again = malloc(need);
    CHECK(nicsim_save(a->dev, snap, need) == need, "ne2k: save wrote a different size");
    snap[need / 2] ^= 1;
    CHECK(nicsim_load(c->dev, snap, need) == -1, "ne2k: a corrupt snapshot was loaded");
    CHECK(nicsim_load(c->dev, snap, 7) == -1, "ne2k: a truncated snapshot was loaded");
    snap[need / 2] ^= 1;
    CHECK(nicsim_load(c->dev, snap, need) == 0, "ne2k: the snapshot was refused");
    CHECK(nicsim_save(c->dev, again, need) == need && memcmp(snap, again, need) == 0, "ne2k: restored state differs");

    struct guest *both[2] = { a, c };
    for (int k = 0; k < 2; k++) {
        struct guest *g = both[k];
        for (size_t i = half; i < len; i++) nicsim_bar_write(g->dev, 0, NE_DATA, 1, frame[i]);
        nicsim_bar_write(g->dev, 0, NE_ISR, 1, 0x40);
        nicsim_bar_write(g->dev, 0, NE_TPSR, 1, NE_TX_PAGE);
        nicsim_bar_write(g->dev, 0, NE_TBCR0, 1, len & 0xFF);
        nicsim_bar_write(g->dev, 0, NE_TBCR1, 1, len >> 8);
        nicsim_bar_write(g->dev, 0, NE_CR, 1, 0x26);
        CHECK(g->out_count == 1 && g->out_len[0] == len && memcmp(g->out[0], frame, len) == 0,
              "%s: the finished transfer is not the frame", g->name);
        CHECK(g->irq_level == 1, "%s: no PTX interrupt", g->name);
    }
    CHECK(a->out_len[0] == c->out_len[0] && memcmp(a->out[0], c->out[0], a->out_len[0]) == 0,
          "ne2k: the restored card sent different bytes");
    CHECK(nicsim_save(a->dev, snap, need) == need && nicsim_save(c->dev, again, need) == need && memcmp(snap, again, need) == 0,
          "ne2k: the two cards ended in different states");
    free(snap);
    free(again);
    guest_free(a);
    guest_free(c);
}

/* ---------------------------------------------- virtio-net (legacy + MSI-X) */

/* The legacy virtio-pci header in BAR 0 with MSI-X enabled (virtio 1.x 4.1.4.8). */
enum { VL_HOST_FEATURES = 0x00, VL_GUEST_FEATURES = 0x04, VL_QUEUE_PFN = 0x08, VL_QUEUE_SIZE = 0x0C,
       VL_QUEUE_SELECT = 0x0E, VL_QUEUE_NOTIFY = 0x10, VL_STATUS = 0x12, VL_ISR = 0x13,
       VL_CONFIG_VECTOR = 0x14, VL_QUEUE_VECTOR = 0x16, VL_DEVICE_CONFIG = 0x18 };
enum { VQ_RX = 0, VQ_TX = 1, VQ_BASE = 0x10000, VQ_STRIDE = 0x10000, VBUF = 0x80000, VBUF_SIZE = 2048,
       V_HDR = 10 /* virtio_net_hdr without MRG_RXBUF */ };

struct vq {
    uint64_t base;  /* descriptor table; avail follows; used on the next 4 KiB */
    uint16_t size;
    uint16_t avail_idx;
    uint16_t used_seen;
};

static uint64_t vq_avail(const struct vq *q) { return q->base + 16u * q->size; }
static uint64_t vq_used(const struct vq *q) { return (vq_avail(q) + 6 + 2u * q->size + 4095) & ~(uint64_t)4095; }

static void vq_post(struct guest *g, struct vq *q, uint16_t desc, uint64_t addr, uint32_t len, int writable) {
    uint8_t *d = g->ram + q->base + 16u * desc;
    put64(d, addr);
    put32(d + 8, len);
    put16(d + 12, writable ? 2 : 0);
    put16(d + 14, 0);
    uint8_t *avail = g->ram + vq_avail(q);
    put16(avail + 4 + 2 * (q->avail_idx % q->size), desc);
    q->avail_idx++;
    put16(avail + 2, q->avail_idx);
}

/* The next used element: its id and length, or -1 when none. */
static int vq_take(struct guest *g, struct vq *q, uint32_t *len) {
    const uint8_t *used = g->ram + vq_used(q);
    if (get16(used + 2) == q->used_seen) return -1;
    const uint8_t *e = used + 4 + 8 * (q->used_seen % q->size);
    q->used_seen++;
    *len = get32(e + 4);
    return (int)get32(e);
}

/* Finds capability `id` in configuration space; 0 when absent. */
static uint32_t find_capability(nicsim_device *d, uint8_t id) {
    if (!(nicsim_config_read(d, 0x06, 2) & 0x10)) return 0;
    uint32_t at = nicsim_config_read(d, 0x34, 1) & 0xFC;
    for (int hops = 0; at && hops < 48; hops++) {
        if (nicsim_config_read(d, at, 1) == id) return at;
        at = nicsim_config_read(d, at + 1, 1) & 0xFC;
    }
    return 0;
}

static void virtio_init(struct guest *g, struct vq *rx, struct vq *tx, uint8_t *mac) {
    nicsim_device *d = g->dev;
    config_enable(d);
    /* MSI-X: vector 0 for receive, 1 for transmit, each to the local APIC range as a PC does. */
    uint32_t cap = find_capability(d, 0x11);
    CHECK(cap != 0, "%s: no MSI-X capability", g->name);
    uint32_t table = nicsim_config_read(d, cap + 4, 4);
    int bir = (int)(table & 7);
    for (uint32_t v = 0; v < 2; v++) {
        uint64_t entry = (table & ~7u) + 16 * v;
        nicsim_bar_write(d, bir, entry + 0, 4, 0xFEE00000u);
        nicsim_bar_write(d, bir, entry + 4, 4, 0);
        nicsim_bar_write(d, bir, entry + 8, 4, 0x40 + v);
        nicsim_bar_write(d, bir, entry + 12, 4, 0); /* unmask */
    }
    nicsim_config_write(d, cap + 2, 2, 0x8000 | nicsim_config_read(d, cap + 2, 2)); /* MSI-X Enable */

    nicsim_bar_write(d, 0, VL_STATUS, 1, 0);
    nicsim_bar_write(d, 0, VL_STATUS, 1, 1 | 2); /* ACKNOWLEDGE | DRIVER */
    uint32_t offered = (uint32_t)nicsim_bar_read(d, 0, VL_HOST_FEATURES, 4);
    CHECK(offered & (1u << 5), "%s: VIRTIO_NET_F_MAC not offered (%08x)", g->name, offered);
    nicsim_bar_write(d, 0, VL_GUEST_FEATURES, 4, 1u << 5);
    for (int i = 0; i < 6; i++) mac[i] = (uint8_t)nicsim_bar_read(d, 0, VL_DEVICE_CONFIG + i, 1);
    struct vq *queues[2] = { rx, tx };
    for (uint16_t n = 0; n < 2; n++) {
        struct vq *q = queues[n];
        nicsim_bar_write(d, 0, VL_QUEUE_SELECT, 2, n);
        q->size = (uint16_t)nicsim_bar_read(d, 0, VL_QUEUE_SIZE, 2);
        CHECK(q->size >= 8 && q->size <= 1024, "%s: queue %u size %u", g->name, n, q->size);
        q->base = VQ_BASE + (uint64_t)n * VQ_STRIDE;
        q->avail_idx = q->used_seen = 0;
        nicsim_bar_write(d, 0, VL_QUEUE_VECTOR, 2, n);
        CHECK(nicsim_bar_read(d, 0, VL_QUEUE_VECTOR, 2) == n, "%s: queue %u refused vector %u", g->name, n, n);
        nicsim_bar_write(d, 0, VL_QUEUE_PFN, 4, (uint32_t)(q->base >> 12));
    }
    nicsim_bar_write(d, 0, VL_STATUS, 1, 1 | 2 | 4); /* DRIVER_OK */
    for (uint16_t i = 0; i < 8; i++) vq_post(g, rx, i, VBUF + (uint64_t)i * VBUF_SIZE, VBUF_SIZE, 1);
    nicsim_bar_write(d, 0, VL_QUEUE_NOTIFY, 2, VQ_RX);
}

static void virtio_send(struct guest *g, struct vq *tx, const uint8_t *frame, size_t len) {
    uint16_t next = tx->avail_idx;  /* the driver's own ring position picks the buffer */
    uint64_t buf = VBUF + 16u * VBUF_SIZE + (uint64_t)(next % 8) * VBUF_SIZE;
    memset(g->ram + buf, 0, V_HDR);
    memcpy(g->ram + buf + V_HDR, frame, len);
    int before = g->msi_count;
    vq_post(g, tx, (uint16_t)(next % 8), buf, (uint32_t)(V_HDR + len), 0);
    nicsim_bar_write(g->dev, 0, VL_QUEUE_NOTIFY, 2, VQ_TX);
    uint32_t used_len;
    CHECK(vq_take(g, tx, &used_len) >= 0, "%s: the transmit buffer was not used", g->name);
    CHECK(g->msi_count == before + 1 && g->msi_address == 0xFEE00000u && g->msi_data == 0x41,
          "%s: no MSI-X message on vector 1 after transmit (count %d data %x)", g->name, g->msi_count - before, g->msi_data);
    CHECK(g->irq_level == 0, "%s: INTx asserted although MSI-X is enabled", g->name);
}

static size_t virtio_receive(struct guest *g, struct vq *rx, int msi_before, uint8_t *out) {
    CHECK(g->msi_count == msi_before + 1 && g->msi_data == 0x40,
          "%s: no MSI-X message on vector 0 after receive (count %d data %x)", g->name, g->msi_count - msi_before, g->msi_data);
    uint32_t len = 0;
    int id = vq_take(g, rx, &len);
    CHECK(id >= 0 && id < 8 && len >= V_HDR, "%s: no used receive buffer (id %d len %u)", g->name, id, len);
    if (id < 0 || id >= 8 || len < V_HDR) return 0;
    uint64_t buf = VBUF + (uint64_t)id * VBUF_SIZE;
    memcpy(out, g->ram + buf + V_HDR, len - V_HDR);
    vq_post(g, rx, (uint16_t)id, buf, VBUF_SIZE, 1); /* give it back */
    nicsim_bar_write(g->dev, 0, VL_QUEUE_NOTIFY, 2, VQ_RX);
    return len - V_HDR;
}

static void test_virtio_net(void) {
    struct guest *a = guest_new("virtio A", "virtio-net-pci", "mac=52:54:00:00:02:0a,disable-modern=on");
    struct guest *b = guest_new("virtio B", "virtio-net", "mac=52:54:00:00:02:0b,disable-modern=on,vectors=2");
    struct vq rx_a, tx_a, rx_b, tx_b;
    uint8_t mac_a[6], mac_b[6], frame[256], got[2048];
    virtio_init(a, &rx_a, &tx_a, mac_a);
    virtio_init(b, &rx_b, &tx_b, mac_b);
    CHECK(mac_a[5] == 0x0a && mac_b[5] == 0x0b, "virtio: the device config does not hold the mac= option");
    for (int round = 0; round < 10; round++) {
        size_t len = make_frame(frame, mac_b, mac_a, (uint8_t)round);
        virtio_send(a, &tx_a, frame, len);
        int before = b->msi_count;
        CHECK(deliver(a, b) == 1, "virtio: B refused A's frame");
        size_t n = virtio_receive(b, &rx_b, before, got);
        CHECK(n == len && memcmp(got, frame, len) == 0, "virtio: B received %zu bytes, not A's %zu", n, len);
        len = make_frame(frame, mac_a, mac_b, (uint8_t)(70 + round));
        virtio_send(b, &tx_b, frame, len);
        before = a->msi_count;
        CHECK(deliver(b, a) == 1, "virtio: A refused B's frame");
        n = virtio_receive(a, &rx_a, before, got);
        CHECK(n == len && memcmp(got, frame, len) == 0, "virtio: A received %zu bytes, not B's %zu", n, len);
    }

    /* Snapshot with a frame received and not yet read by the driver: C,
     * restored from A with a copy of A's RAM and driver state, reads it,
     * answers, and ends exactly as A does (MSI-X messages included). */
    size_t len = make_frame(frame, mac_a, mac_b, 99);
    CHECK(nicsim_receive(a->dev, frame, len) == 1, "virtio: A refused the frame before the snapshot");
    struct guest *c = guest_new("virtio C", "virtio-net-pci", "mac=52:54:00:00:02:0a,disable-modern=on");
    size_t need = nicsim_save(a->dev, NULL, 0);
    uint8_t *snap = malloc(need), *snap_c = malloc(need);
    CHECK(need > 0 && nicsim_save(a->dev, snap, need) == need, "virtio: save gave %zu bytes", need);
    memcpy(c->ram, a->ram, RAM_SIZE);
    c->msi_count = a->msi_count;
    c->msi_data = a->msi_data;
    c->msi_address = a->msi_address;
    CHECK(nicsim_load(c->dev, snap, need) == 0, "virtio: C refused A's snapshot");
    CHECK(nicsim_save(c->dev, snap_c, need) == need && memcmp(snap, snap_c, need) == 0, "virtio: C's state differs from A's");
    struct vq rx_c = rx_a, tx_c = tx_a;
    struct guest *pair[2] = { a, c };
    struct vq *rxs[2] = { &rx_a, &rx_c }, *txs[2] = { &tx_a, &tx_c };
    for (int k = 0; k < 2; k++) {
        struct guest *g = pair[k];
        g->out_count = 0;
        size_t n = virtio_receive(g, rxs[k], g->msi_count - 1, got);
        CHECK(n == len && memcmp(got, frame, len) == 0, "%s: the held frame reads back differently", g->name);
        uint8_t reply[256];
        size_t rlen = make_frame(reply, mac_b, mac_a, 98);
        virtio_send(g, txs[k], reply, rlen);
        CHECK(g->out_count == 1 && g->out_len[0] == rlen && memcmp(g->out[0], reply, rlen) == 0, "%s: sent the wrong frame", g->name);
    }
    CHECK(a->msi_count == c->msi_count, "virtio: %d messages on A, %d on C", a->msi_count, c->msi_count);
    CHECK(memcmp(a->ram, c->ram, RAM_SIZE) == 0, "virtio: guest RAM differs after the restored transfer");
    CHECK(nicsim_save(a->dev, snap, need) == need && nicsim_save(c->dev, snap_c, need) == need && memcmp(snap, snap_c, need) == 0,
          "virtio: A and C ended in different states");
    free(snap);
    free(snap_c);
    guest_free(c);
    guest_free(a);
    guest_free(b);
}

/* ------------------------------------------------- virtio-net over INTx */

static void test_virtio_intx(void) {
    struct guest *g = guest_new("virtio INTx", "virtio-net-pci", "disable-modern=on,vectors=0");
    nicsim_device *d = g->dev;
    config_enable(d);
    CHECK(find_capability(d, 0x11) == 0, "virtio vectors=0: an MSI-X capability is present");
    nicsim_bar_write(d, 0, VL_STATUS, 1, 1 | 2);
    nicsim_bar_write(d, 0, VL_GUEST_FEATURES, 4, 1u << 5);
    struct vq rx = { VQ_BASE, 0, 0, 0 };
    nicsim_bar_write(d, 0, VL_QUEUE_SELECT, 2, VQ_RX);
    rx.size = (uint16_t)nicsim_bar_read(d, 0, VL_QUEUE_SIZE, 2);
    nicsim_bar_write(d, 0, VL_QUEUE_PFN, 4, (uint32_t)(rx.base >> 12));
    nicsim_bar_write(d, 0, VL_STATUS, 1, 1 | 2 | 4);
    vq_post(g, &rx, 0, VBUF, VBUF_SIZE, 1);
    nicsim_bar_write(d, 0, VL_QUEUE_NOTIFY, 2, VQ_RX);
    uint8_t frame[256], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, src[6] = { 2, 0, 0, 0, 0, 1 };
    size_t len = make_frame(frame, bcast, src, 3);
    CHECK(nicsim_receive(d, frame, len) == 1, "virtio INTx: broadcast refused");
    CHECK(g->irq_level == 1 && g->msi_count == 0, "virtio INTx: line %d, %d messages", g->irq_level, g->msi_count);
    uint8_t isr = (uint8_t)nicsim_bar_read(d, 0, VL_ISR, 1);
    CHECK(isr & 1, "virtio INTx: ISR %02x without the queue bit", isr);
    CHECK(g->irq_level == 0, "virtio INTx: reading ISR did not deassert the line");
    /* No room: the one buffer is used. */
    CHECK(nicsim_receive(d, frame, len) == -1, "virtio INTx: a frame with no buffer was not 'no room'");
    guest_free(g);
}

/* ----------------------------------------------------------- ABI edges */

static void test_edges(void) {
    char error[64];
    nicsim_host host = { 0 };
    CHECK(nicsim_create("e1000", NULL, &host, error, sizeof error) == NULL, "e1000 was created");
    CHECK(strstr(error, "unknown model 'e1000'") != NULL, "error says: %s", error);
    CHECK(nicsim_create("rtl8139", "bogus=1", &host, error, sizeof error) == NULL, "bogus=1 accepted");
    CHECK(strstr(error, "bogus") != NULL, "error says: %s", error);
    CHECK((nicsim_version() >> 16) == NICSIM_API_VERSION_MAJOR, "library ABI %08x, header %08x", nicsim_version(), NICSIM_API_VERSION);

    /* No callbacks at all: DMA fails as a bus error, nothing crashes. */
    nicsim_device *d = nicsim_create("rtl8139", NULL, &host, error, sizeof error);
    CHECK(d != NULL, "rtl8139 with no callbacks: %s", error);
    config_enable(d);
    nicsim_bar_write(d, 0, RTL_CR, 1, 0x0C);
    nicsim_bar_write(d, 0, RTL_TSAD0, 4, 0x1000);
    nicsim_bar_write(d, 0, RTL_TSD0, 4, 60);
    uint32_t tsd = (uint32_t)nicsim_bar_read(d, 0, RTL_TSD0, 4);
    CHECK(tsd & (1u << 30), "rtl8139: a failed DMA read did not abort (TSD %08x)", tsd);
    CHECK(nicsim_bar_read(d, 0, 0x100, 4) == 0xFFFFFFFFu, "past BAR0 reads all ones");
    CHECK(nicsim_bar_read(d, 7, 0, 2) == 0xFFFF, "BAR 7 reads all ones");
    CHECK(nicsim_bar_read(d, 0, 0, 3) == ~(uint64_t)0, "width 3 reads all ones");
    static uint8_t big[1 << 20];
    CHECK(nicsim_receive(d, big, sizeof big) == 0, "a 1 MiB frame was taken");
    CHECK(nicsim_receive(d, big, 0) == 0, "an empty frame was taken");
    CHECK(nicsim_receive(d, NULL, 60) == 0, "a NULL frame was taken");
    size_t rom_size = 1;
    (void)nicsim_rom_image(d, &rom_size);
    nicsim_reset(d);
    CHECK(nicsim_config_read(d, 0x04, 2) == 0, "reset left the command register set");
    nicsim_destroy(d);
    nicsim_destroy(NULL);
    CHECK(nicsim_config_read(NULL, 0, 4) == 0xFFFFFFFFu, "NULL device reads all ones");
}

int main(void) {
    test_edges();
    test_rtl8139();
    test_ne2k_pci();
    test_ne2k_snapshot();
    test_virtio_net();
    test_virtio_intx();
    if (failures) {
        fprintf(stderr, "emulator.c: %d checks failed\n", failures);
        return 1;
    }
    printf("emulator.c: rtl8139, ne2k_pci, virtio-net-pci (MSI-X and INTx) exchanged frames both ways through libnicsim, and each continued identically in a card restored from a snapshot\n");
    return 0;
}
