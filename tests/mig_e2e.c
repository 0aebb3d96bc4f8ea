/* Test support for the end-to-end migration tests (see mig_e2e.h). */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mig_e2e.h"
#include "base/mgmt_proto.h"

void
e2e_guest_new(struct e2e_guest *g, unsigned pages)
{
    g->size = (uint64_t)pages * E2E_PG;
    g->iova = E2E_IOVA;
    g->fd = memfd_create("e2e-guest", MFD_CLOEXEC);
    cr_assert_geq(g->fd, 0);
    cr_assert_eq(ftruncate(g->fd, (off_t)g->size), 0);
    g->p = mmap(NULL, g->size, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
    cr_assert_neq(g->p, MAP_FAILED);
}

void
e2e_guest_map(struct e2e_guest *g, struct model_server *s)
{
    cr_assert_eq(vdev_client_dma_map(s->cl, g->iova, g->size, g->fd, 0,
                                     VFIO_USER_F_DMA_REGION_READ |
                                         VFIO_USER_F_DMA_REGION_WRITE),
                 0);
}

void
e2e_guest_free(struct e2e_guest *g)
{
    if (g->p && g->p != MAP_FAILED)
        munmap(g->p, g->size);
    if (g->fd >= 0)
        close(g->fd);
    g->p = NULL;
    g->fd = -1;
}

void
e2e_edu_dma(struct model_server *s, bool to_ram, uint64_t src, uint64_t dst,
            uint64_t count)
{
    model_wr(s, EDU_BAR0, EDU_DMA_SRC, 8, src);
    model_wr(s, EDU_BAR0, EDU_DMA_DST, 8, dst);
    model_wr(s, EDU_BAR0, EDU_DMA_COUNT, 8, count);
    model_wr(s, EDU_BAR0, EDU_DMA_CMD, 8, 1u | (to_ram ? 2u : 0u));
    cr_assert_eq(model_rd(s, EDU_BAR0, EDU_DMA_CMD, 8) & 1, 0,
                 "the copy is done when the write returns");
}

static const struct {
    uint64_t off;
    unsigned width;
} readable[8] = {
    {EDU_LIVENESS, 4},   {EDU_FACT, 4},    {EDU_STATUS, 4},
    {EDU_IRQ_STATUS, 4}, {EDU_DMA_SRC, 8}, {EDU_DMA_DST, 8},
    {EDU_DMA_COUNT, 8},  {EDU_DMA_CMD, 8},
};

void
e2e_snapshot_vars(struct model_server *s, struct e2e_snapshot *out)
{
    char reply[VDEV_MGMT_LINE_MAX * 8];
    char *save = NULL, *tok;
    int fd = vdev_mgmt_client_open(s->mgmt);

    memset(out, 0, sizeof(*out));
    cr_assert_geq(fd, 0);
    cr_assert_eq(vdev_mgmt_client_exchange(fd, "list", reply, sizeof(reply)),
                 0);
    tok = strtok_r(reply, " ", &save);
    cr_assert_str_eq(tok, "ok");
    while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
        char line[128], val[128];
        char *colon = strchr(tok, ':');

        cr_assert_not_null(colon, "list entry '%s'", tok);
        cr_assert_lt(out->n, E2E_MAX_VALUES);
        *colon = '\0';
        snprintf(out->names[out->n], sizeof(out->names[0]), "%s", tok);
        snprintf(line, sizeof(line), "get %s", tok);
        cr_assert_eq(vdev_mgmt_client_exchange(fd, line, val, sizeof(val)), 0,
                     "%s: %s", line, val);
        char *eq = strchr(val, '=');
        cr_assert_not_null(eq, "%s", val);
        out->values[out->n++] = strtoull(eq + 1, NULL, 0);
    }
    close(fd);
    cr_assert_gt(out->n, 10, "edu names its registers and fields");
}

void
e2e_snapshot(struct model_server *s, struct e2e_snapshot *out)
{
    e2e_snapshot_vars(s, out);
    out->has_regs = true;
    for (unsigned i = 0; i < 8; i++)
        out->regs[i] =
            model_rd(s, EDU_BAR0, readable[i].off, readable[i].width);
}

void
e2e_snapshot_equal(const struct e2e_snapshot *a, const struct e2e_snapshot *b)
{
    cr_assert_eq(a->n, b->n);
    for (unsigned i = 0; i < a->n; i++) {
        cr_assert_str_eq(a->names[i], b->names[i]);
        cr_assert_eq(a->values[i], b->values[i], "%s: 0x%llx != 0x%llx",
                     a->names[i], (unsigned long long)a->values[i],
                     (unsigned long long)b->values[i]);
    }
    for (unsigned i = 0; a->has_regs && b->has_regs && i < 8; i++)
        cr_assert_eq(a->regs[i], b->regs[i], "register 0x%llx",
                     (unsigned long long)readable[i].off);
}

uint64_t
e2e_snapshot_get(const struct e2e_snapshot *s, const char *name)
{
    for (unsigned i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0)
            return s->values[i];
    cr_assert_fail("no value named %s", name);
    return 0;
}

void
e2e_edu_buffer(struct model_server *s, struct e2e_guest *g, uint8_t out[4096])
{
    /* The last page of guest memory is the scratch page. */
    uint64_t at = g->size - E2E_PG;

    memset(g->p + at, 0, E2E_PG);
    e2e_edu_dma(s, true, EDU_DMA_BUF, g->iova + at, 4096);
    memcpy(out, g->p + at, 4096);
}

uint32_t
e2e_crc32c(const uint8_t *p, size_t len)
{
    uint32_t crc = ~0u;

    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
    }
    return ~crc;
}

void
e2e_reseal(uint8_t *buf, size_t len)
{
    uint32_t total, crc;

    cr_assert_geq(len, 16);
    memcpy(&total, buf + 8, 4);
    cr_assert_leq(total, len);
    crc = e2e_crc32c(buf, total - 4);
    memcpy(buf + total - 4, &crc, 4);
}
