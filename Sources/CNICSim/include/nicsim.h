/*
 * nicsim.h: nicsim's network cards as a device backend for emulators.
 *
 * nicsim models NICs at register level (RTL8139C+, the NE2000 on PCI and
 * ISA, virtio-net over virtio-pci). An emulator links libnicsim, creates a
 * device by model name, and forwards to it what its guest does: PCI
 * configuration cycles, accesses to the card's BARs (or ISA ports), frames
 * arriving from its network, and the passing of time. The device reaches
 * back through the callbacks in `nicsim_host`: DMA into guest RAM, its
 * interrupt line, MSI/MSI-X messages, frames it transmits.
 *
 *   pkg-config --cflags --libs nicsim
 *
 * Threading: a device is used by one thread at a time. Calls on one device
 * must not overlap, and callbacks run on the calling thread, inside the call
 * that caused them (a register write that starts a transmission calls
 * `transmit` and `set_irq` before it returns). Distinct devices are
 * independent and may live on different threads.
 *
 * Robustness: no input crashes the library. A NULL device, a width other
 * than 1, 2, 4 (or 8 for memory BARs), an offset past a BAR, a missing BAR
 * or an out-of-range frame length is answered as the bus would answer it:
 * reads return all ones of the access width, writes are ignored.
 *
 * Plain C99; no Swift type is visible here.
 */
#ifndef NICSIM_H
#define NICSIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes: (major << 16) | minor. A library
 * with the same major is compatible; `nicsim_version()` says which one is
 * linked. */
#define NICSIM_API_VERSION_MAJOR 0
#define NICSIM_API_VERSION_MINOR 1
#define NICSIM_API_VERSION ((NICSIM_API_VERSION_MAJOR << 16) | NICSIM_API_VERSION_MINOR)

/* The ABI version of the linked library, as NICSIM_API_VERSION. */
uint32_t nicsim_version(void);

/* One card. Opaque; made by nicsim_create, freed by nicsim_destroy. */
typedef struct nicsim_device nicsim_device;

/* What the emulator offers the card. Copied by nicsim_create; `opaque` is
 * passed back to every callback unchanged. */
typedef struct nicsim_host {
    void *opaque;
    /* DMA from guest-physical `addr`: fill `buf` with `len` bytes and return
     * 0, or return -1 for a bus error (the card reports it as its hardware
     * does: the RTL8139 aborts the transfer and flags a master abort,
     * virtio-net enters NEEDS_RESET). Required for bus-master cards
     * (rtl8139, virtio-net-pci); the NE2000s never master the bus. */
    int  (*dma_read)(void *opaque, uint64_t addr, void *buf, size_t len);
    /* DMA to guest-physical `addr`; 0, or -1 for a bus error. */
    int  (*dma_write)(void *opaque, uint64_t addr, const void *buf, size_t len);
    /* The INTx line (for an ISA card, its IRQ line) is now at `level`
     * (1 asserted, 0 deasserted). Level-triggered: repeats are harmless.
     * May be NULL. */
    void (*set_irq)(void *opaque, int level);
    /* The card sends an MSI/MSI-X message: a 32-bit write of `data` to
     * `address`, as the guest programmed them. May be NULL: the card keeps
     * its MSI-X capability (the guest sees the same card) and its messages
     * are dropped, so a host without MSI should create virtio-net-pci with
     * vectors=0 (INTx only). */
    void (*msi)(void *opaque, uint64_t address, uint32_t data);
    /* The card put a frame on the wire: destination MAC first, no FCS.
     * `frame` is valid only during the call. May be NULL (frames vanish). */
    void (*transmit)(void *opaque, const void *frame, size_t len);
} nicsim_host;

/* Makes a card.
 *   model:   "rtl8139", "ne2k_pci", "ne2k_isa", "virtio-net-pci" (QEMU's
 *            names) or nicsim's own "ne2000" (= ne2k_pci), "ne2000-isa",
 *            "virtio-net".
 *   options: QEMU-style "key=value,..." or NULL/"" for none:
 *            mac=52:54:00:12:34:56 (every model; that is the default),
 *            disable-legacy=on|off, disable-modern=on|off, vectors=0..64
 *            (MSI-X vectors, default 4; 0: INTx only), csum=on|off
 *            (virtio-net-pci); iobase=0x300, irq=9 (ne2k_isa).
 *   host:    the callbacks; copied, so it need not outlive the call.
 * Returns NULL on a bad model or option, with a one-line reason in `error`
 * (NUL-terminated, truncated to `error_size`; `error` may be NULL).
 * The card starts in its power-on state with its link up. */
nicsim_device *nicsim_create(const char *model, const char *options, const nicsim_host *host,
                             char *error, size_t error_size);

/* Frees the card. No callback runs after it returns. NULL is ignored. */
void nicsim_destroy(nicsim_device *dev);

/* A configuration-space read/write of `width` bytes (1, 2 or 4) at `offset`
 * (0..255; 0..4095 answers all ones beyond the header) of a PCI card. An
 * ISA card has no configuration space: reads return all ones. */
uint32_t nicsim_config_read(nicsim_device *dev, uint32_t offset, unsigned width);
void     nicsim_config_write(nicsim_device *dev, uint32_t offset, unsigned width, uint32_t value);

/* An access to BAR `bar` (0..5) at `offset` from the BAR's start, of
 * `width` bytes (1, 2, 4, or 8 where the card allows it). The emulator
 * decodes guest addresses to BARs itself (from the BAR registers it reads
 * in configuration space) and need not check the command register's I/O
 * and memory enables: nicsim answers regardless. For an ISA card, bar 0 is
 * its ports, `offset` from its `iobase`. */
uint64_t nicsim_bar_read(nicsim_device *dev, int bar, uint64_t offset, unsigned width);
void     nicsim_bar_write(nicsim_device *dev, int bar, uint64_t offset, unsigned width, uint64_t value);

/* Offers a frame from the wire (destination MAC first, no FCS, at most
 * 65535 bytes). Returns 1 taken, 0 refused for good (the address filter,
 * link down, a bad length), -1 no room now (offer it again later, e.g.
 * when nicsim_can_receive says 1 or after the guest refills its ring). */
int nicsim_receive(nicsim_device *dev, const void *frame, size_t len);

/* 1 when the link is up and the card's receiver is running (the DP8390
 * started and out of loopback, the RTL8139's CR.RE set, virtio-net at
 * DRIVER_OK with its receive queue enabled), 0 when it surely won't take a
 * frame. A hint, like QEMU's can_receive: nicsim_receive's -1 is the
 * authoritative "no room" (a full ring). */
int nicsim_can_receive(nicsim_device *dev);

/* Carrier up (1) or down (0), as the emulator's network sees it. */
void nicsim_set_link(nicsim_device *dev, int up);

/* Runs the card's timers up to `now_ns` (nanoseconds on a clock the
 * emulator chooses, starting at 0 when the card is made, never going back)
 * and returns the next deadline on that clock, or -1 when none is set.
 * Call it again at (or after) that deadline. */
int64_t nicsim_advance(nicsim_device *dev, int64_t now_ns);

/* A hardware reset (PCI RST#): every register to its power-on value, the
 * configuration space too (command, BARs, MSI-X enable). The link state
 * is kept. */
void nicsim_reset(nicsim_device *dev);

/* Snapshots: the card's whole state in a versioned byte format.
 * nicsim_save returns the bytes needed and writes them when `size` is
 * enough (call with size 0 to ask). nicsim_load restores a snapshot taken
 * from the same model with the same options: 0, or -1 with nothing
 * changed when the bytes are not a snapshot it can read.
 * The format (magic "NICSIMSS", format and state versions, the model, named
 * fields, a CRC-32) is refused whole when anything in it is off: truncated,
 * corrupt, another version or model, a field missing or unknown.
 * Guest RAM is not in the snapshot (the emulator migrates its own RAM); the
 * card's timers are, relative to its clock, so a card restored onto a clock
 * with another origin fires them after the same delays.
 * Every model saves its whole state: ne2k_pci and ne2k_isa (configuration
 * space, registers, remote DMA in flight, PROM, packet memory), rtl8139
 * (also the PHY, the EEPROM mid-command, ring positions, tally counters,
 * the timer, a C+ frame being gathered) and virtio-net-pci (status,
 * features, queues and ring positions, MSI-X table and pending bits,
 * receive filter; only into a card made with the same options).
 * nicsim_save returns 0 only for a NULL device. */
size_t nicsim_save(nicsim_device *dev, void *buf, size_t size);
int    nicsim_load(nicsim_device *dev, const void *buf, size_t size);

/* The expansion ROM the card exposes through its ROM BAR, if any: a pointer
 * valid until nicsim_destroy, its length in *size; NULL (and *size 0) when
 * the card has none. `size` may be NULL. */
const void *nicsim_rom_image(nicsim_device *dev, size_t *size);

#ifdef __cplusplus
}
#endif

#endif /* NICSIM_H */
