/*
 * Calls per second through libnicsim: register reads, register writes and
 * frames received into an RTL8139's ring (with the driver's acknowledgement),
 * on a release or debug build alike. Prints one line per measurement.
 *
 *   cc -std=c99 -O2 bench.c $(pkg-config --cflags --libs nicsim)
 */
#define _POSIX_C_SOURCE 199309L
#include <nicsim.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static uint8_t ram[1 << 20];

static int dma_read(void *o, uint64_t a, void *b, size_t n) {
    (void)o;
    if (a > sizeof ram || n > sizeof ram - a) return -1;
    memcpy(b, ram + a, n);
    return 0;
}

static int dma_write(void *o, uint64_t a, const void *b, size_t n) {
    (void)o;
    if (a > sizeof ram || n > sizeof ram - a) return -1;
    memcpy(ram + a, b, n);
    return 0;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

int main(void) {
    nicsim_host host = { NULL, dma_read, dma_write, NULL, NULL, NULL };
    char error[128];
    nicsim_device *d = nicsim_create("rtl8139", NULL, &host, error, sizeof error);
    if (!d) { fprintf(stderr, "bench: %s\n", error); return 1; }
    nicsim_config_write(d, 4, 2, 7);
    const int n = 1000000;
    volatile uint64_t sink = 0;
    double t0 = now();
    for (int i = 0; i < n; i++) sink += nicsim_bar_read(d, 0, 0x3E, 2);
    double t1 = now();
    for (int i = 0; i < n; i++) nicsim_bar_write(d, 0, 0x3C, 2, (uint64_t)(i & 0x7F));
    double t2 = now();
    /* Receive: classic ring at 64 KiB, 8 KiB + 16, no wrap; the driver frees each frame at once. */
    nicsim_bar_write(d, 0, 0x37, 1, 0x0C);
    nicsim_bar_write(d, 0, 0x30, 4, 0x10000);
    nicsim_bar_write(d, 0, 0x44, 4, 0x0F);
    uint8_t frame[1514];
    memset(frame, 0xFF, 6);
    memset(frame + 6, 0x02, sizeof frame - 6);
    const int frames = 200000;
    uint32_t offset = 0;
    int taken = 0;
    double t3 = now();
    for (int i = 0; i < frames; i++) {
        taken += nicsim_receive(d, frame, sizeof frame) == 1;
        uint16_t len = (uint16_t)(ram[0x10000 + offset + 2] | ram[0x10000 + offset + 3] << 8);
        offset = (offset + len + 4 + 3) & ~3u;
        offset %= 8192;
        nicsim_bar_write(d, 0, 0x38, 2, (offset - 16) & 0xFFFF);
        nicsim_bar_write(d, 0, 0x3E, 2, 0xFFFF);
    }
    double t4 = now();
    printf("nicsim ABI: %.2f M bar_read/s, %.2f M bar_write/s, %.0f k frames/s received (1514 B, %d of %d taken)\n",
           n / (t1 - t0) / 1e6, n / (t2 - t1) / 1e6, frames / (t4 - t3) / 1e3, taken, frames);
    nicsim_destroy(d);
    return sink == 42 ? 2 : 0;
}
