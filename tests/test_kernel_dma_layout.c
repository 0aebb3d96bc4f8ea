/* DMA_READ/DMA_WRITE layout (runtime/KERNEL.md, X1): a server left to its
 * default detects, per client, whether it speaks the spec's layout or QEMU
 * 10.1/10.2's, with the client library playing each kind of client; the
 * setting overrides the detection; the server program's options. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <talloc.h>
#include <unistd.h>

#include "dma_engine.h"

/* The server's log, to see what it says about the layout. */
struct logbook {
    unsigned detected;
    char last[256];
};

static void
record(void *opaque, enum vdev_log_level level, const char *msg)
{
    struct logbook *b = opaque;

    if (level == VDEV_LOG_INFO && strstr(msg, "DMA_READ/WRITE layout")) {
        b->detected++;
        snprintf(b->last, sizeof(b->last), "%s", msg);
    }
}

/* Copies both ways through message-served memory, twice. */
static void
copy_both_ways(struct dma_e2e *t)
{
    for (int round = 0; round < 2; round++) {
        for (unsigned i = 0; i < ENGINE_AREA; i++)
            t->fdmem[i] = (uint8_t)(i * 31 + 7 + round);
        /* fd-backed -> message-served: DMA_WRITE requests */
        cr_assert_eq(
            dma_e2e_copy(t, ENGINE_FD_IOVA + 100, ENGINE_MSG_IOVA + 5, 30000),
            0);
        cr_assert_arr_eq(t->msgmem + 5, t->fdmem + 100, 30000);
        /* message-served -> fd-backed: DMA_READ requests */
        for (unsigned i = 0; i < ENGINE_AREA; i++)
            t->msgmem[i] = (uint8_t)(i ^ 0xa5 ^ round);
        cr_assert_eq(dma_e2e_copy(t, ENGINE_MSG_IOVA + 1, ENGINE_FD_IOVA + 3,
                                  ENGINE_AREA - 8),
                     0);
        cr_assert_arr_eq(t->fdmem + 3, t->msgmem + 1, ENGINE_AREA - 8);
    }
}

static void
detects(bool qemu_client, bool twin)
{
    struct logbook book = {0};
    struct dma_e2e_opts o = {.twin = twin,
                             .qemu_client = qemu_client,
                             .layout = VDEV_DMA_LAYOUT_AUTO,
                             .log = record,
                             .log_opaque = &book};
    struct dma_e2e t;

    dma_e2e_start(&t, &o);
    copy_both_ways(&t);
    dma_e2e_stop(&t);
    /* found out once, and said so at info level */
    cr_assert_eq(book.detected, 1, "%s", book.last);
    cr_assert_not_null(
        strstr(book.last, qemu_client ? "QEMU 10.1/10.2" : "the spec's"), "%s",
        book.last);
}

Test(kernel_dma_layout, auto_detects_qemu)
{
    detects(true, false);
}

Test(kernel_dma_layout, auto_detects_spec)
{
    detects(false, false);
}

Test(kernel_dma_layout, auto_detects_qemu_on_the_twin_socket)
{
    detects(true, true);
}

/* Each new client is asked again: the next one may be the other kind. */
Test(kernel_dma_layout, each_client_asked)
{
    struct logbook book = {0};
    struct dma_e2e_opts o = {
        .qemu_client = true, .log = record, .log_opaque = &book};
    struct dma_e2e t;

    dma_e2e_start(&t, &o);
    copy_both_ways(&t);
    vdev_client_close(t.cl);
    cr_assert_eq(vdev_client_connect(NULL, t.path, &t.cl), 0);
    cr_assert_eq(vdev_client_negotiate(t.cl, NULL), 0);
    cr_assert_eq(vdev_client_add_dma_memory(t.cl, ENGINE_MSG_IOVA, t.msgmem,
                                            ENGINE_AREA),
                 0);
    cr_assert_eq(vdev_client_dma_map(t.cl, ENGINE_MSG_IOVA, ENGINE_AREA, -1, 0,
                                     VFIO_USER_F_DMA_REGION_READ |
                                         VFIO_USER_F_DMA_REGION_WRITE),
                 0);
    cr_assert_eq(vdev_client_dma_map(t.cl, ENGINE_FD_IOVA, ENGINE_AREA, t.memfd,
                                     0,
                                     VFIO_USER_F_DMA_REGION_READ |
                                         VFIO_USER_F_DMA_REGION_WRITE),
                 0);
    copy_both_ways(&t);
    dma_e2e_stop(&t);
    cr_assert_eq(book.detected, 2);
    cr_assert_not_null(strstr(book.last, "the spec's"), "%s", book.last);
}

/* The setting overrides: no question asked, and a client of the other
 * layout is misunderstood (its empty DMA_WRITE reply is malformed in the
 * spec's layout). */
Test(kernel_dma_layout, setting_overrides_detection)
{
    struct logbook book = {0};
    struct dma_e2e_opts o = {.qemu_client = true,
                             .layout = VDEV_DMA_LAYOUT_QEMU,
                             .log = record,
                             .log_opaque = &book};
    struct dma_e2e t;

    dma_e2e_start(&t, &o);
    copy_both_ways(&t);
    dma_e2e_stop(&t);
    cr_assert_eq(book.detected, 0);

    o.layout = VDEV_DMA_LAYOUT_SPEC;
    dma_e2e_start(&t, &o);
    cr_assert_eq(dma_e2e_copy(&t, ENGINE_FD_IOVA, ENGINE_MSG_IOVA, 64),
                 -EPROTO);
    dma_e2e_stop(&t);
    cr_assert_eq(book.detected, 0);
}

Test(kernel_dma_layout, bad_setting_refused)
{
    struct vdev_pci_ident id = {.vendor_id = 1};
    struct vdev_dev *dev = vdev_dev_create(NULL, "x", &id);

    cr_assert_not_null(dev);
    cr_assert_eq(vdev_set_dma_layout(dev, (enum vdev_dma_layout)7), -EINVAL);
    cr_assert_eq(vdev_set_dma_layout(dev, VDEV_DMA_LAYOUT_SPEC), 0);
    talloc_free(dev);
}

/* The model servers take --dma-layout=auto|spec|qemu (and the older
 * --qemu-dma-layout); anything else is a usage error. */
static int
server_status(const char *arg)
{
    const char *b = getenv("VDEV_BUILD");
    char prog[256];
    int status;
    pid_t pid;

    snprintf(prog, sizeof(prog), "%s/bin/vdev-gpio-pci-idio-16",
             b ? b : "build");
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        dup2(null, 1);
        dup2(null, 2);
        execl(prog, prog, arg, "--help", (char *)NULL);
        _exit(127);
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

Test(kernel_dma_layout, server_option)
{
    cr_assert_eq(server_status("--dma-layout=auto"), 0);
    cr_assert_eq(server_status("--dma-layout=spec"), 0);
    cr_assert_eq(server_status("--dma-layout=qemu"), 0);
    cr_assert_eq(server_status("--qemu-dma-layout"), 0);
    cr_assert_eq(server_status("--dma-layout=32bit"), 2);
    cr_assert_eq(server_status("--dma-layout"), 2);
}
