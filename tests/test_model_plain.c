/* The register engine's plain-read plan (runtime/host/model.c) against its
 * general path, on every shipped model as generated/ has it: for every
 * BAR and config-space offset and every width 1-8, over random state, a
 * read the plan serves returns what the general path returns and changes
 * nothing; and the plan serves the reads it is there for. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <talloc.h>

#include "device/device.h"
#include "host/model.h"
#include "vdev_model.h"

#include "edu.h"
#include "gpio-pci-idio-16.h"
#include "i6300esb.h"
#include "ivshmem.h"
#include "pci-serial.h"

/* A model's device and where its state block is. */
struct subject {
    const char *name;
    struct vdev_dev *dev;
    uint8_t *state;
    size_t size;
};

#define SUBJECT(nm, type, create)                                              \
    static struct subject nm##_subject(void *ctx)                              \
    {                                                                          \
        struct vdev_dev *dev = create(ctx);                                    \
        cr_assert_not_null(dev, #create " failed");                            \
        struct type *d = vdev_private(dev);                                    \
        return (struct subject){#nm, dev, (uint8_t *)&d->s, sizeof(d->s)};     \
    }
SUBJECT(edu, edu, edu_create)
SUBJECT(idio16, idio16, idio16_create)
SUBJECT(i6300esb, i6300esb, i6300esb_create)
SUBJECT(ivshmem, ivshmem, ivshmem_create)
SUBJECT(serial, serial, serial_create)

static uint64_t
next_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Every read of region index up to span bytes in, over `rounds` random
 * states: the plan's answer (where it gives one) is the general path's,
 * and neither changes the state. Returns the reads the plan served. */
static unsigned
compare_region(struct subject *t, uint32_t index, uint64_t span, int rounds)
{
    uint8_t *before = talloc_size(NULL, t->size);
    uint64_t seed = 0x9e3779b97f4a7c15u ^ index;
    unsigned served = 0;

    cr_assert_not_null(before);
    for (int round = 0; round < rounds; round++) {
        for (size_t k = 0; k < t->size; k++)
            t->state[k] = (uint8_t)next_rand(&seed);
        memcpy(before, t->state, t->size);
        for (uint64_t off = 0; off < span; off++) {
            for (uint32_t count = 1; count <= 8 && off + count <= span;
                 count++) {
                uint8_t fast[8], slow[8];
                memset(fast, 0xa5, sizeof(fast));
                memset(slow, 0x5a, sizeof(slow));
                int rc =
                    vdev_model_read_by(t->dev, index, off, fast, count, true);
                cr_assert(rc == 0 || rc == 1, "%s region %u: %d", t->name,
                          index, rc);
                if (!rc)
                    continue;
                served++;
                cr_assert_eq(memcmp(t->state, before, t->size), 0,
                             "%s region %u: the plan's read at 0x%llx/%u "
                             "changed the state",
                             t->name, index, (unsigned long long)off, count);
                cr_assert_eq(
                    vdev_model_read_by(t->dev, index, off, slow, count, false),
                    0);
                cr_assert_eq(memcmp(fast, slow, count), 0,
                             "%s region %u at 0x%llx, %u bytes: the plan "
                             "reads %02x%02x%02x%02x.., the general path "
                             "%02x%02x%02x%02x..",
                             t->name, index, (unsigned long long)off, count,
                             fast[0], fast[1], fast[2], fast[3], slow[0],
                             slow[1], slow[2], slow[3]);
                cr_assert_eq(memcmp(t->state, before, t->size), 0,
                             "%s region %u: a read the plan serves changed "
                             "the state on the general path (0x%llx/%u)",
                             t->name, index, (unsigned long long)off, count);
            }
        }
    }
    talloc_free(before);
    return served;
}

/* Every BAR the engine serves, and config space. */
static unsigned
compare_all(struct subject *t)
{
    unsigned served = 0, regions = 0;
    uint8_t b;

    for (uint32_t index = 0; index < VDEV_NR_BARS; index++) {
        const struct vdev_region *r = &t->dev->regions[index];
        if (vdev_model_read_by(t->dev, index, 0, &b, 1, true) < 0)
            continue;
        regions++;
        /* The registers lie in the first 4 KiB of every model's BARs. */
        served +=
            compare_region(t, index, r->size < 0x1010 ? r->size : 0x1010, 3);
    }
    cr_assert_gt(regions, 0, "%s: no BAR of the engine", t->name);
    served += compare_region(t, VDEV_CONFIG_INDEX, 0x100, 3);
    return served;
}

/* plain_served(t, index, off, count): the plan serves this read. */
static void
expect_plain(struct subject *t, uint32_t index, uint64_t off, uint32_t count,
             int want)
{
    uint8_t buf[8];
    cr_assert_eq(vdev_model_read_by(t->dev, index, off, buf, count, true), want,
                 "%s region %u at 0x%llx, %u bytes: plan %s expected", t->name,
                 index, (unsigned long long)off, count,
                 want ? "served" : "refused");
}

Test(model_plain, gpio)
{
    void *ctx = talloc_new(NULL);
    struct subject t = idio16_subject(ctx);

    cr_assert_gt(compare_all(&t), 0);
    expect_plain(&t, 2, 4, 4, 1); /* out8_15, in8_15, irq_status, a gap */
    expect_plain(&t, 2, 0, 2, 1); /* out0_7, in0_7 */
    expect_plain(&t, 2, 2, 1, 0); /* irq_ctl: a read enables the IRQ */
    expect_plain(&t, 2, 0, 4, 0); /* ... and so does a read that covers it */
    talloc_free(ctx);
}

Test(model_plain, edu)
{
    void *ctx = talloc_new(NULL);
    struct subject t = edu_subject(ctx);

    cr_assert_gt(compare_all(&t), 0);
    expect_plain(&t, 0, 0, 4, 1);    /* id */
    expect_plain(&t, 0, 4, 4, 1);    /* liveness */
    expect_plain(&t, 0, 0x80, 8, 1); /* dma_src */
    expect_plain(&t, 0, 0x80, 4, 1); /* its low half */
    expect_plain(&t, 0, 0x84, 4, 0); /* exact: not at a register */
    expect_plain(&t, 0, 4, 2, 0);    /* narrower than edu decodes */
    expect_plain(&t, 0, 0x60, 4, 0); /* irq_raise: write-only, fill */
    talloc_free(ctx);
}

Test(model_plain, ivshmem)
{
    void *ctx = talloc_new(NULL);
    struct subject t = ivshmem_subject(ctx);

    cr_assert_gt(compare_all(&t), 0);
    expect_plain(&t, 0, 0, 4, 1);
    expect_plain(&t, 0, 8, 4, 1);
    expect_plain(&t, 0, 0, 8, 1);
    talloc_free(ctx);
}

Test(model_plain, pci_serial)
{
    void *ctx = talloc_new(NULL);
    struct subject t = serial_subject(ctx);

    cr_assert_gt(compare_all(&t), 0);
    expect_plain(&t, 0, 7, 1, 1); /* scr */
    expect_plain(&t, 0, 3, 2, 1); /* lcr, mcr */
    expect_plain(&t, 0, 0, 1, 0); /* rbr/dll: a bank */
    expect_plain(&t, 0, 5, 1, 0); /* lsr: computed on a read */
    talloc_free(ctx);
}

Test(model_plain, i6300esb)
{
    void *ctx = talloc_new(NULL);
    struct subject t = i6300esb_subject(ctx);

    cr_assert_gt(compare_all(&t), 0);
    expect_plain(&t, 0, 8, 4, 1);   /* gintsr */
    expect_plain(&t, 0, 0, 4, 1);   /* timer1: write-only, reads 0 */
    expect_plain(&t, 0, 0xc, 2, 0); /* flags: computed on a read */
    talloc_free(ctx);
}
