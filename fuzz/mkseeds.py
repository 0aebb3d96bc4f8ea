#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/{server,vdevc}/ from the protocol and
the repository's .vdev files (fuzz/corpus/migstream comes from a saved edu
stream: build-fuzz/bin/seed_migstream). Run from the top: fuzz/mkseeds.py"""
import glob, os, shutil, struct

OUT = 'fuzz/corpus'
V_VERSION, V_DMA_MAP, V_DMA_UNMAP, V_GET_INFO, V_REGION_INFO = 1, 2, 3, 4, 5
V_IO_FDS, V_IRQ_INFO, V_SET_IRQS, V_READ, V_WRITE = 6, 7, 8, 9, 10
V_RESET, V_DIRTY, V_MULTI, V_FEATURE, V_MIG_READ, V_MIG_WRITE = \
    13, 14, 15, 16, 17, 18
FEAT_GET, FEAT_SET = 1 << 16, 1 << 17

# Records of fuzz/msgseq.h: op, nfds, flags, adj, cmd, len, fd kinds, body.
MSG, RAW, CTL = 0, 1, 2
HOLD, SPLIT, SIZE, BIG, ID = 0x04, 0x08, 0x10, 0x20, 0x40
CTL_ANSWER, CTL_RECONNECT, CTL_EOF, CTL_WINDOW, CTL_CLOCK = 0, 1, 2, 3, 4
ANS_OK, ANS_ERROR, ANS_NONE, ANS_SHORT, ANS_STALE, ANS_WRONG_CMD, \
    ANS_SPLIT, ANS_INTERLEAVE = range(8)
# Fd kinds (tests/hostile_fd.h).
EVENTFD, EVENTFD_BLOCK, EVENTFD_FULL, EVENTFD_FULL_NB, PIPE_W, PIPE_W_FULL, \
    PIPE_W_GONE, PIPE_R, SOCKET, SOCKET_FULL, MEMFD_4K, MEMFD_64K, \
    MEMFD_EMPTY, DEVNULL, DEVZERO, OPATH = range(16)
# Models: bits 0-1 and 7 of the mode byte.
EDU, GPIO, IVSHMEM, TESTDEV, SERIAL, ESB = 0, 1, 2, 3, 0x80, 0x81
VERSION_FIRST, TWIN, QEMU = 4, 8, 0x10


NEGOTIATED = 0x20


def mode(model=EDU, version=False, twin=False, qemu=False, answer=ANS_OK,
         negotiated=True):
    """Sessions start negotiated (no VERSION message: faster) unless a
    VERSION message is asked for, or the session sends its own."""
    m = model | (QEMU if qemu else 0)
    if version or twin:
        m |= VERSION_FIRST | (TWIN if twin else 0)
    elif negotiated:
        m |= NEGOTIATED
    ctl_answer = b''
    if answer < 2:
        m |= answer << 6
    else:
        ctl_answer = ctl(CTL_ANSWER, answer)
    return bytes([m]) + ctl_answer


def rec(cmd, body=b'', fds=(), op=MSG, flags=0, adj=0):
    return struct.pack('<BBBbHH', op, len(fds), flags, adj, cmd,
                       len(body)) + bytes(fds) + body


def ctl(what, flags=0, body=b''):
    return rec(what, body, op=CTL, flags=flags)


def raw(data, fds=()):
    return rec(0, data, fds, op=RAW)


def rw(cmd, region, off, data=None, count=None, **kw):
    if data is None:
        return rec(cmd, struct.pack('<QII', off, region, count), **kw)
    return rec(cmd, struct.pack('<QII', off, region, len(data)) + data, **kw)


def rd(region, off, count, **kw):
    return rw(V_READ, region, off, count=count, **kw)


def wr(region, off, data, **kw):
    return rw(V_WRITE, region, off, data, **kw)


def w32(off, v, region=0):
    return wr(region, off, struct.pack('<I', v))


def w64(off, v, region=0):
    return wr(region, off, struct.pack('<Q', v))


def feature(flags, data=b''):
    return rec(V_FEATURE, struct.pack('<II', 8 + len(data), flags) + data)


def version(json, minor=1):
    return rec(V_VERSION, struct.pack('<HH', 0, minor) + json + b'\0')


def set_irqs(flags, index, start, count, data=b'', fds=()):
    return rec(V_SET_IRQS, struct.pack('<IIIII', 20 + len(data), flags, index,
                                       start, count) + data, fds)


def dma_map(addr, size, fds=(), flags=3, offset=0):
    return rec(V_DMA_MAP, struct.pack('<IIQQQ', 32, flags, offset, addr, size),
               fds)


def dma_unmap(addr, size, flags=0):
    return rec(V_DMA_UNMAP, struct.pack('<IIQQ', 24, flags, addr, size))


def write(name, data):
    d = os.path.join(OUT, name.split('/')[0])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)


# SET_IRQS flags: data none/bool/eventfd, action mask/unmask/trigger.
D_NONE, D_BOOL, D_EVENTFD = 1, 2, 4
A_MASK, A_UNMASK, A_TRIGGER = 8, 16, 32


def server_seeds():
    for f in glob.glob(os.path.join(OUT, 'server', '*')):
        os.remove(f)
    info = rec(V_GET_INFO, struct.pack('<III', 16, 0, 0))
    for i in range(10):
        info += rec(V_REGION_INFO, struct.pack('<IIIIQQ', 32 + 64 * (i & 1),
                                               0, i, 0, 0, 0))
    for i in range(5):
        info += rec(V_IRQ_INFO, struct.pack('<IIII', 16, 0, i, 0))
    info += rec(V_IO_FDS, struct.pack('<IIII', 16, 0, 0, 0))
    for name, m in (('edu', EDU), ('gpio', GPIO), ('ivshmem', IVSHMEM),
                    ('testdev', TESTDEV), ('serial', SERIAL),
                    ('i6300esb', ESB)):
        write('server/info-' + name, mode(m, version=(m == EDU)) + info)
        cfg = rd(7, 0, 256) + wr(7, 4, b'\x06\x04') + \
            wr(7, 0x10, b'\xff\xff\xff\xff') + rd(7, 0x10, 4) + \
            rd(7, 0x34, 1) + rd(7, 0x40, 24) + rd(7, 0x100, 16) + \
            wr(7, 0x3c, b'\x0b') + rec(V_RESET)
        write('server/config-' + name, mode(m) + cfg)
    regs = w32(0x04, 0x12345678) + rd(0, 0x04, 4) + w32(0x20, 0x80) + \
        w32(0x08, 5) + rd(0, 0x08, 4) + w32(0x60, 3) + rd(0, 0x24, 4) + \
        w32(0x64, 1) + rd(0, 0, 8) + rec(V_RESET)
    write('server/regs-edu', mode() + regs)
    # The factorial unit: done (and its interrupt raised) only once device
    # time has moved on; a periodic-free timer, stopped by a reset.
    clock = w32(0x20, 0x80) + w32(0x08, 6) + rd(0, 0x20, 4) + \
        ctl(CTL_CLOCK, 1) + rd(0, 0x20, 4) + \
        ctl(CTL_CLOCK, 0, struct.pack('<Q', 10 ** 7)) + rd(0, 0x08, 4) + \
        rd(0, 0x24, 4) + w32(0x64, 1) + w32(0x08, 12) + rec(V_RESET) + \
        ctl(CTL_CLOCK, 0, struct.pack('<Q', 10 ** 9)) + rd(0, 0x20, 4)
    write('server/clock-edu', mode() + clock)
    gpio = wr(2, 0, b'\x5a') + rd(2, 0, 8) + rd(2, 2, 1) + wr(2, 1, b'\0') + \
        wr(2, 2, b'\0') + rd(2, 3, 1) + wr(2, 3, b'\0') + wr(2, 4, b'\xa5')
    write('server/regs-gpio', mode(GPIO) + gpio)
    # The UART: divisor latch, FIFOs, bytes out to its stream, the
    # transmitter-empty interrupt, scratch.
    uart = wr(0, 3, b'\x80') + wr(0, 0, b'\x01') + wr(0, 1, b'\0') + \
        wr(0, 3, b'\x03') + wr(0, 2, b'\x07') + wr(0, 1, b'\x03') + \
        wr(0, 0, b'h') + wr(0, 0, b'i') + rd(0, 2, 1) + rd(0, 5, 1) + \
        rd(0, 0, 1) + wr(0, 4, b'\x1b') + rd(0, 6, 1) + wr(0, 7, b'\x5a') + \
        rd(0, 0, 8) + ctl(CTL_CLOCK, 255) + rd(0, 5, 1) + rec(V_RESET)
    write('server/regs-serial', mode(SERIAL) + uart)
    # The watchdog: its config window in config space, unlock and reload
    # through BAR0, time running out.
    esb = wr(7, 0x60, b'\x00\x00') + rd(7, 0x60, 2) + wr(7, 0x68, b'\x02') + \
        rd(7, 0x68, 1) + wr(0, 0xc, b'\x80\x00') + wr(0, 0xc, b'\x86\x00') + \
        w32(0, 0x10) + wr(0, 0xc, b'\x80\x00') + wr(0, 0xc, b'\x86\x00') + \
        w32(4, 0x10) + wr(0, 0xc, b'\x80\x00') + wr(0, 0xc, b'\x86\x00') + \
        wr(0, 0xc, b'\x00\x01') + ctl(CTL_CLOCK, 0, struct.pack('<Q', 10 ** 9)) + \
        rd(0, 0xc, 2) + rd(0, 8, 4) + ctl(CTL_CLOCK, 0, struct.pack('<Q', 10 ** 10)) + \
        rd(0, 0xc, 2) + wr(7, 0x68, b'\x03') + rd(7, 0x60, 16) + rec(V_RESET)
    write('server/regs-i6300esb', mode(ESB) + esb)
    multi = struct.pack('<Q', 2) + \
        struct.pack('<QII', 0x60, 0, 4) + struct.pack('<Q', 1) + \
        struct.pack('<QII', 0x04, 0, 4) + struct.pack('<Q', 7)
    write('server/multi', mode(version=True) + rec(V_MULTI, multi))
    # DMA: a memfd-backed map, the edu engine copying from it, unmap.
    dma = w64(0x80, 0x100000) + w64(0x88, 0x40000) + w64(0x90, 64) + \
        w64(0x98, 1) + w64(0x80, 0x40000) + w64(0x88, 0x100000) + \
        w64(0x98, 7) + rd(0, 0x24, 4)
    write('server/dma-fd', mode() + dma_map(0x100000, 4096, [MEMFD_4K]) +
          dma + dma_unmap(0x100000, 4096))
    write('server/dma-hostile-fds', mode() +
          dma_map(0x100000, 4096, [DEVNULL]) +
          dma_map(0x200000, 4096, [DEVZERO]) +
          dma_map(0x300000, 65536, [MEMFD_4K]) +
          dma_map(0x400000, 4096, [PIPE_R]) +
          dma_map(0x500000, 4096, [OPATH]) +
          dma_map(0x600000, 4096, [SOCKET]) +
          dma_map(0x700000, 4096, [MEMFD_EMPTY]) + dma +
          dma_unmap(0, 0, flags=2))
    # Message-based DMA (no fd): the engine asks the client, on the twin
    # socket when there is one; every way of answering.
    nofd = dma_map(0x200000, 8192) + w64(0x80, 0x200000) + \
        w64(0x88, 0x40000) + w64(0x90, 16) + w64(0x98, 1) + \
        w64(0x80, 0x40000) + w64(0x88, 0x200010) + w64(0x98, 3) + \
        dma_unmap(0, 0, flags=2)
    for a in range(8):
        write('server/dma-msg-%d' % a, mode(answer=a) + nofd)
    write('server/dma-msg-qemu', mode(qemu=True) + nofd)
    # The twin socket: what the client wrote there before the server asks
    # (a stale reply, then the right one; an error; broken framing).
    twin = version(b'{"capabilities":{"twin_socket":{"supported":true}}}')
    dma_rd = dma_map(0x200000, 8192) + w64(0x80, 0x200000) + \
        w64(0x88, 0x40000) + w64(0x90, 16) + w64(0x98, 1) + \
        w64(0x80, 0x40000) + w64(0x88, 0x200010) + w64(0x98, 3)
    good = struct.pack('<HHIII', 0, 11, 48, 1, 0) + \
        struct.pack('<QQ', 0x200000, 16) + bytes(range(16))
    stale = struct.pack('<HHIII', 9, 11, 32, 1, 0) + \
        struct.pack('<QQ', 0x200000, 16)
    for name, blob in (('ok', stale + good),
                       ('error', struct.pack('<HHIII', 0, 11, 16, 0x21, 14)),
                       ('framing', struct.pack('<HHIII', 0, 11, 8, 1, 0)),
                       ('command', struct.pack('<HHIII', 0, 11, 16, 0, 0)),
                       ('short', good[:30])):
        write('server/dma-twin-' + name, mode(negotiated=False) +
              ctl(CTL_ANSWER, ANS_OK, blob) + twin + dma_rd)
    write('server/dma-msg-twin', mode(twin=True) +
          ctl(CTL_ANSWER, ANS_OK, struct.pack('<HHIII', 0, 11, 32, 1, 0) +
              struct.pack('<QQ', 0x200000, 16)) + nofd)
    # IRQs: eventfds for INTx and MSI, mask/unmask, interrupts raised;
    # then every hostile kind as the INTx trigger, triggered many times.
    irq = set_irqs(D_EVENTFD | A_TRIGGER, 0, 0, 1, fds=[EVENTFD]) + \
        set_irqs(D_EVENTFD | A_TRIGGER, 1, 0, 1, fds=[EVENTFD]) + \
        w32(0x60, 1) + set_irqs(D_NONE | A_UNMASK, 0, 0, 1) + \
        w32(0x64, 1) + set_irqs(D_BOOL | A_MASK, 0, 0, 1, b'\x01') + \
        set_irqs(D_EVENTFD | A_MASK, 1, 0, 1, fds=[EVENTFD]) + \
        set_irqs(D_NONE | A_TRIGGER, 0, 0, 0)
    write('server/irqs', mode() + irq)
    for k in range(16):
        # MSI: every trigger signals; INTx: once per unmask.
        s = set_irqs(D_EVENTFD | A_TRIGGER, 1, 0, 1, fds=[k])
        s += set_irqs(D_EVENTFD | A_TRIGGER, 0, 0, 1, fds=[k])
        s += set_irqs(D_NONE | A_TRIGGER, 1, 0, 1) * 64
        s += (set_irqs(D_NONE | A_TRIGGER, 0, 0, 1) +
              set_irqs(D_NONE | A_UNMASK, 0, 0, 1)) * 8
        s += w32(0x60, 1) + w32(0x64, 1) + rd(0, 0, 4)
        write('server/irq-fd-kind-%02d' % k, mode() + s)
    # ivshmem: MSI-X on, vector 1 unmasked, eventfd, doorbell to itself.
    msix = set_irqs(D_EVENTFD | A_TRIGGER, 2, 0, 4,
                    fds=[EVENTFD, EVENTFD_FULL, PIPE_W_FULL, SOCKET_FULL]) + \
        rd(7, 0x40, 12) + wr(7, 0x42, b'\x03\x80') + \
        wr(1, 0x1c, b'\0\0\0\0') + w32(0x0c, 1) + w32(0x0c, 2) + \
        rd(1, 0x800, 8) + wr(2, 0x100, b'shared') + rd(2, 0x100, 6)
    write('server/msix-ivshmem', mode(IVSHMEM) + msix)
    # Migration v2: query, stop-copy, read the stream, resume, write it.
    mig = feature(FEAT_GET | 1, b'\0' * 8) + \
        feature(FEAT_SET | 2, struct.pack('<Ii', 1, -1)) + \
        feature(FEAT_SET | 2, struct.pack('<Ii', 3, -1)) + \
        rec(V_MIG_READ, struct.pack('<II', 8, 65536)) + \
        rec(V_MIG_READ, struct.pack('<II', 8, 65536)) + \
        feature(FEAT_SET | 2, struct.pack('<Ii', 1, -1)) + \
        feature(FEAT_SET | 2, struct.pack('<Ii', 4, -1)) + \
        rec(V_MIG_WRITE, struct.pack('<II', 12, 4) + b'VDMS') + \
        feature(FEAT_SET | 2, struct.pack('<Ii', 1, -1)) + \
        feature(FEAT_SET | 2, struct.pack('<Ii', 2, -1))
    write('server/mig-v2', mode() + mig)
    write('server/mig-v2-reconnect', mode() +
          feature(FEAT_SET | 2, struct.pack('<Ii', 1, -1)) +
          feature(FEAT_SET | 2, struct.pack('<Ii', 3, -1)) +
          rec(V_MIG_READ, struct.pack('<II', 8, 16)) + ctl(CTL_RECONNECT) +
          version(b'{}') + rec(V_MIG_READ, struct.pack('<II', 8, 65536)))
    log = feature(FEAT_SET | 6, struct.pack('<QII', 4096, 1, 0) +
                  struct.pack('<QQ', 0x100000, 4096)) + \
        w64(0x80, 0x40000) + w64(0x88, 0x100000) + w64(0x90, 64) + \
        w64(0x98, 3) + \
        feature(FEAT_GET | 8, struct.pack('<QQQ', 0x100000, 4096, 4096)) + \
        feature(FEAT_SET | 7)
    write('server/dirty-log', mode() + dma_map(0x100000, 4096, [MEMFD_4K]) +
          log)
    legacy = rec(V_DIRTY, struct.pack('<II', 8, 1)) + \
        rec(V_DIRTY, struct.pack('<II', 40, 4) +
            struct.pack('<QQQQ', 0x100000, 4096, 4096, 8)) + \
        rec(V_DMA_UNMAP, struct.pack('<IIQQ', 24 + 16 + 8, 1, 0x100000, 4096) +
            struct.pack('<QII', 4096, 0, 8)) + \
        rec(V_DIRTY, struct.pack('<II', 8, 2))
    write('server/dirty-legacy', mode(version=False, negotiated=False) +
          version(b'{"capabilities":{"migration":{"pgsize":4096}}}') +
          dma_map(0x100000, 4096, [MEMFD_4K]) + legacy)
    legacy_region = rec(V_REGION_INFO, struct.pack('<IIIIQQ', 32, 0, 9, 0,
                                                   0, 0)) + \
        rd(9, 0, 32) + wr(9, 0, struct.pack('<I', 2)) + rd(9, 8, 16) + \
        rd(9, 4096, 64) + wr(9, 0, struct.pack('<I', 1))
    write('server/legacy-version', mode(version=False, negotiated=False) + version(
        b'{"capabilities":{"migration":{"pgsize":4096},"max_msg_fds":4}}') +
        legacy_region)
    write('server/io-fds', mode() + rec(V_IO_FDS, struct.pack('<IIII', 16, 0,
                                                               0, 0)))
    write('server/no-version', mode(version=False, negotiated=False) + info[:200])
    write('server/bad-version', mode(version=False, negotiated=False) +
          version(b'{"capabilities":1}') + version(b'{"capabilities":{}}') +
          version(b'{"capabilities":{}}'))
    # Framing: held and split sends, a lying size, raw garbage, a big
    # message, fds on a message that takes none, EOF inside a message.
    write('server/framing', mode() + rd(0, 0, 4, op=MSG | HOLD) +
          rd(0, 4, 4, op=MSG | SPLIT, adj=5) + rd(0, 0, 4, fds=[EVENTFD]) +
          rd(0, 0, 4, op=MSG | SIZE, adj=-3) + raw(b'\xff' * 40) +
          wr(0, 0x04, b'\0' * 4092, op=MSG | BIG) +
          rd(0, 8, 4, flags=0x10) + rd(0, 8, 4, flags=0x41))
    write('server/eof-inside', mode() + raw(struct.pack('<HHIII', 7, 9, 64,
                                                          0, 0)) +
          ctl(CTL_EOF) + ctl(CTL_RECONNECT) + version(b'{}') + rd(0, 0, 4))
    # A client that stops reading: replies wait, the server stops reading
    # (and a reply with fds gives up on it); then it reads, or goes.
    many = rd(7, 0, 4096) * 80
    write('server/window', mode() + ctl(CTL_WINDOW, 0, struct.pack('<I', 100))
          + many + ctl(CTL_WINDOW, 0, struct.pack('<I', 0xffffffff)) + many +
          ctl(CTL_WINDOW, 4) + many + ctl(CTL_EOF))
    write('server/window-twin', mode() + ctl(CTL_WINDOW, 1) + many +
          version(b'{"capabilities":{"twin_socket":{"supported":true}}}') +
          ctl(CTL_WINDOW, 0, struct.pack('<I', 0xffffffff)) + many)
    # Every way VERSION capabilities can be wrong.
    bad = [b'{"capabilities":{"max_msg_fds":-1}}',
           b'{"capabilities":{"max_msg_fds":"8"}}',
           b'{"capabilities":{"max_msg_fds":4294967296}}',
           b'{"capabilities":{"max_data_xfer_size":true}}',
           b'{"capabilities":{"max_dma_maps":[]}}',
           b'{"capabilities":{"pgsizes":"4096"}}',
           b'{"capabilities":{"pgsizes":-4096}}',
           b'{"capabilities":{"pgsizes":8192}}',
           b'{"capabilities":{"max_data_xfer_size":0}}',
           b'{"capabilities":{"write_multiple":1}}',
           b'{"capabilities":{"twin_socket":true}}',
           b'{"capabilities":{"twin_socket":{"supported":1}}}',
           b'{"capabilities":{"twin_socket":{"fd_index":"0"}}}',
           b'{"capabilities":{"migration":4096}}',
           b'{"capabilities":[]}', b'[]', b'{"a":1} x', b'{\x00}',
           b'{"capabilities":{"pgsizes":18446744073709551615}}']
    for i, j in enumerate(bad):
        write('server/version-bad-%02d' % i,
              mode(version=False, negotiated=False) + version(j) +
              version(b'{}', minor=0) + rd(7, 0, 4))
    # The legacy generation's unmap with a dirty bitmap.
    unmap_bm = struct.pack('<IIQQ', 24 + 16 + 8, 1, 0x100000, 4096) + \
        struct.pack('<QII', 4096, 8, 0)
    write('server/dirty-legacy-unmap', mode(version=False, negotiated=False) +
          version(b'{"capabilities":{"migration":{"pgsize":4096}}}') +
          dma_map(0x100000, 4096, [MEMFD_4K]) +
          rec(V_DIRTY, struct.pack('<II', 8, 1)) +
          w64(0x80, 0x40000) + w64(0x88, 0x100000) + w64(0x90, 64) +
          w64(0x98, 3) + rec(V_DMA_UNMAP, unmap_bm) +
          rec(V_DIRTY, struct.pack('<II', 8, 2)))
    write('server/testdev-msix', mode(TESTDEV) +
          set_irqs(D_EVENTFD | A_TRIGGER, 2, 0, 4,
                   fds=[EVENTFD, EVENTFD_FULL, PIPE_W_FULL, SOCKET_FULL]) +
          set_irqs(D_EVENTFD | A_TRIGGER, 1, 0, 4, fds=[EVENTFD] * 4) +
          rd(7, 0x40, 64) + rd(0, 0x800, 64) + wr(0, 0x80c, b'\0\0\0\0') +
          rd(0, 0xc00, 8) + rec(V_REGION_INFO, struct.pack('<IIIIQQ', 256, 0,
                                                           2, 0, 0, 0)) +
          rec(V_REGION_INFO, struct.pack('<IIIIQQ', 256, 0, 9, 0, 0, 0)) +
          rd(9, 0, 256) + wr(9, 8, b'typed') + rd(2, 0, 64) +
          wr(2, 0x80000, b'past the mmap area'))
    write('server/too-many-fds', mode() +
          set_irqs(D_EVENTFD | A_TRIGGER, 1, 0, 1, fds=[EVENTFD] * 20) +
          raw(b'\0' * 16, fds=[MEMFD_4K] * 31))


def vdevc_seeds():
    files = sorted(glob.glob('models/*.vdev') + glob.glob('tests/golden/*.vdev') +
                   glob.glob('tests/golden/lang/*.vdev') +
                   glob.glob('tests/golden/errors/*.vdev'))
    for f in files:
        if os.path.getsize(f) <= 16384:
            shutil.copy(f, os.path.join(OUT, 'vdevc',
                                        f.replace('/', '_')))


os.makedirs(os.path.join(OUT, 'vdevc'), exist_ok=True)
server_seeds()
vdevc_seeds()
