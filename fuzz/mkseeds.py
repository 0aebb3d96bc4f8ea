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

msg_id = 0


def msg(cmd, body=b''):
    global msg_id
    msg_id += 1
    return struct.pack('<HHIII', msg_id & 0xffff, cmd, 16 + len(body), 0,
                       0) + body


def region_rw(cmd, region, off, data=None, count=None):
    if data is None:
        return msg(cmd, struct.pack('<QII', off, region, count))
    return msg(cmd, struct.pack('<QII', off, region, len(data)) + data)


def feature(flags, data=b''):
    return msg(V_FEATURE, struct.pack('<II', 8 + len(data), flags) + data)


def rec(payload, nfds=0, kind=0):
    """One record of record mode: ctl, u16 length, bytes."""
    return bytes([nfds | kind << 2]) + struct.pack('<H', len(payload)) + \
        payload


def version_msg(json):
    return msg(V_VERSION, struct.pack('<HH', 0, 1) + json + b'\0')


def w32(off, v):
    return region_rw(V_WRITE, 0, off, struct.pack('<I', v))


def w64(off, v):
    return region_rw(V_WRITE, 0, off, struct.pack('<Q', v))


def write(name, data):
    d = os.path.join(OUT, name.split('/')[0])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)


def server_seeds():
    # Mode byte: 1 = VERSION first, 2 = twin socket, 4 = record mode.
    info = msg(V_GET_INFO, struct.pack('<III', 16, 0, 0))
    for i in range(9):
        info += msg(V_REGION_INFO, struct.pack('<IIIIQQ', 32, 0, i, 0, 0, 0))
    for i in range(5):
        info += msg(V_IRQ_INFO, struct.pack('<IIII', 16, 0, i, 0))
    write('server/info', b'\x01' + info)
    cfg = region_rw(V_READ, 7, 0, count=256) + \
        region_rw(V_WRITE, 7, 4, b'\x06\x04') + \
        region_rw(V_WRITE, 7, 0x10, b'\xff\xff\xff\xff') + \
        region_rw(V_READ, 7, 0x10, count=4) + \
        region_rw(V_READ, 7, 0x40, count=24) + \
        region_rw(V_WRITE, 7, 0x42, b'\x81\x00')
    write('server/config', b'\x01' + cfg)
    regs = w32(0x04, 0x12345678) + region_rw(V_READ, 0, 0x04, count=4) + \
        w32(0x20, 0x80) + w32(0x08, 5) + region_rw(V_READ, 0, 0x08, count=4) + \
        w32(0x60, 3) + region_rw(V_READ, 0, 0x24, count=4) + w32(0x64, 1) + \
        region_rw(V_READ, 0, 0, count=8) + msg(V_RESET)
    write('server/regs', b'\x01' + regs)
    multi = struct.pack('<Q', 2) + \
        struct.pack('<QII', 0x60, 0, 4) + struct.pack('<Q', 1) + \
        struct.pack('<QII', 0x04, 0, 4) + struct.pack('<Q', 7)
    write('server/multi', b'\x01' + msg(V_MULTI, multi))
    # DMA: a memfd-backed map, the edu engine copying from it, unmap.
    dma_map = msg(V_DMA_MAP, struct.pack('<IIQQQ', 32, 3, 0, 0x100000, 4096))
    dma = w64(0x80, 0x100000) + w64(0x88, 0x40000) + w64(0x90, 64) + \
        w64(0x98, 1) + w64(0x80, 0x40000) + w64(0x88, 0x100000) + \
        w64(0x98, 7) + region_rw(V_READ, 0, 0x24, count=4) + \
        msg(V_DMA_UNMAP, struct.pack('<IIQQ', 24, 0, 0x100000, 4096))
    write('server/dma-fd', b'\x05' + rec(dma_map, 1, 1) + rec(dma))
    # Message-based DMA (no fd): the engine asks the client, on the twin
    # socket when there is one.
    nofd = msg(V_DMA_MAP, struct.pack('<IIQQQ', 32, 3, 0, 0x200000, 8192))
    nofd += w64(0x80, 0x200000) + w64(0x88, 0x40000) + w64(0x90, 16) + \
        w64(0x98, 1) + msg(V_DMA_UNMAP, struct.pack('<IIQQ', 24, 2, 0, 0))
    write('server/dma-msg', b'\x01' + nofd)
    write('server/dma-msg-twin', b'\x03' + nofd)
    # IRQs: an eventfd for INTx and MSI, mask/unmask, an interrupt raised.
    irq = struct.pack('<IIIII', 24, (1 << 2) | (1 << 5), 0, 0, 1) + \
        struct.pack('<i', 0)
    msi = struct.pack('<IIIII', 24, (1 << 2) | (1 << 5), 1, 0, 1) + \
        struct.pack('<i', 0)
    unmask = struct.pack('<IIIII', 20, 1 | (1 << 4), 0, 0, 1)
    write('server/irqs', b'\x05' + rec(msg(V_SET_IRQS, irq), 1, 0) +
          rec(msg(V_SET_IRQS, msi), 1, 0) +
          rec(w32(0x60, 1) + msg(V_SET_IRQS, unmask) + w32(0x64, 1)))
    # Migration v2: query, stop-copy, read the stream, resume, write it.
    mig = feature(FEAT_GET | 1, b'\0' * 8) + \
        feature(FEAT_SET | 2, struct.pack('<Ii', 1, -1)) + \
        feature(FEAT_SET | 2, struct.pack('<Ii', 3, -1)) + \
        msg(V_MIG_READ, struct.pack('<II', 8, 65536)) + \
        msg(V_MIG_READ, struct.pack('<II', 8, 65536)) + \
        feature(FEAT_SET | 2, struct.pack('<Ii', 1, -1)) + \
        feature(FEAT_SET | 2, struct.pack('<Ii', 4, -1)) + \
        msg(V_MIG_WRITE, struct.pack('<II', 12, 4) + b'VDMS') + \
        feature(FEAT_SET | 2, struct.pack('<Ii', 1, -1)) + \
        feature(FEAT_SET | 2, struct.pack('<Ii', 2, -1))
    write('server/mig-v2', b'\x01' + mig)
    log = feature(FEAT_SET | 6, struct.pack('<QII', 4096, 1, 0) +
                  struct.pack('<QQ', 0x100000, 4096)) + \
        feature(FEAT_GET | 8, struct.pack('<QQQ', 0x100000, 4096, 4096)) + \
        feature(FEAT_SET | 7)
    write('server/dirty-log', b'\x05' + rec(dma_map, 1, 1) + rec(log))
    legacy = msg(V_DIRTY, struct.pack('<II', 8, 1)) + \
        msg(V_DIRTY, struct.pack('<II', 32, 4) +
            struct.pack('<QQQQ', 0x100000, 4096, 4096, 8)) + \
        msg(V_DIRTY, struct.pack('<II', 8, 2))
    write('server/dirty-legacy', b'\x05' + rec(dma_map, 1, 1) + rec(legacy))
    write('server/io-fds',
          b'\x01' + msg(V_IO_FDS, struct.pack('<IIII', 16, 0, 0, 0)))
    write('server/no-version', b'\x00' + info[:64])
    write('server/bad-version', b'\x00' + version_msg(b'{"capabilities":1}'))
    write('server/legacy-version', b'\x00' + version_msg(
        b'{"capabilities":{"migration":{"pgsize":4096},"max_msg_fds":4}}') +
        msg(V_REGION_INFO, struct.pack('<IIIIQQ', 32, 0, 9, 0, 0, 0)))


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
