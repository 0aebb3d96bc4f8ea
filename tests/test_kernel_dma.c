/* runtime/KERNEL.md, M rows: DMA_MAP and DMA_UNMAP checked as
 * VFIO_IOMMU_MAP_DMA / UNMAP_DMA (vfio_iommu_type1) check them, unless the
 * spec says otherwise. Over a real socket, against the test device. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kernel_fixture.h"

static struct kfix k;

static void
setup(void)
{
    kfix_up(&k, false, false);
}

static void
teardown(void)
{
    kfix_down(&k);
}

TestSuite(kernel_dma, .init = setup, .fini = teardown, .timeout = 30);

#define RW (VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE)

static int
map(uint32_t argsz, uint32_t flags, uint64_t offset, uint64_t addr,
    uint64_t size, const int *fds, unsigned nr_fds)
{
    struct vfio_user_dma_map d = {.argsz = argsz,
                                  .flags = flags,
                                  .offset = offset,
                                  .addr = addr,
                                  .size = size};

    return kfix_call(&k, VFIO_USER_DMA_MAP, &d, sizeof(d), fds, nr_fds, NULL);
}

static int
unmap(uint32_t argsz, uint32_t flags, uint64_t addr, uint64_t size)
{
    struct vfio_user_dma_unmap d = {
        .argsz = argsz, .flags = flags, .addr = addr, .size = size};

    return kfix_call(&k, VFIO_USER_DMA_UNMAP, &d, sizeof(d), NULL, 0, NULL);
}

/* M1, M2 */
Test(kernel_dma, map_argsz_and_flags)
{
    cr_expect_eq(map(31, RW, 0, 0x10000, 0x1000, NULL, 0), -EINVAL);
    cr_expect_eq(map(32, RW | 4, 0, 0x10000, 0x1000, NULL, 0), -EINVAL);
    cr_expect_eq(map(64, RW, 0, 0x10000, 0x1000, NULL, 0), 0);
    cr_expect_eq(unmap(24, 0, 0x10000, 0x1000), 0);
}

/* M3 */
Test(kernel_dma, map_size_and_alignment)
{
    cr_expect_eq(map(32, RW, 0, 0x10000, 0, NULL, 0), -EINVAL);
    cr_expect_eq(map(32, RW, 0, 0x10800, 0x1000, NULL, 0), -EINVAL);
    cr_expect_eq(map(32, RW, 0, 0x10000, 0x1800, NULL, 0), -EINVAL);
    cr_expect_eq(map(32, RW, 0, 0x10000, 0x2000, NULL, 0), 0);
}

/* M4 */
Test(kernel_dma, map_overlap_eexist)
{
    cr_assert_eq(map(32, RW, 0, 0x10000, 0x4000, NULL, 0), 0);
    cr_expect_eq(map(32, RW, 0, 0x10000, 0x4000, NULL, 0), -EEXIST);
    cr_expect_eq(map(32, RW, 0, 0xf000, 0x2000, NULL, 0), -EEXIST);
    cr_expect_eq(map(32, RW, 0, 0x13000, 0x1000, NULL, 0), -EEXIST);
    cr_expect_eq(map(32, RW, 0, 0x14000, 0x1000, NULL, 0), 0);
}

static int
memfd(size_t size)
{
    int fd = memfd_create("kernel-dma", MFD_CLOEXEC);

    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, (off_t)size), 0);
    return fd;
}

/* M5 */
Test(kernel_dma, map_two_fds_refused)
{
    int fds[2] = {memfd(0x1000), memfd(0x1000)};

    cr_expect_eq(map(32, RW, 0, 0x10000, 0x1000, fds, 2), -EINVAL);
    cr_expect_eq(map(32, RW, 0, 0x10000, 0x1000, fds, 1), 0);
    close(fds[0]);
    close(fds[1]);
}

/* M9 */
Test(kernel_dma, map_fd_past_end)
{
    int fd = memfd(0x4000);

    cr_expect_eq(map(32, RW, 0x2000, 0x10000, 0x4000, &fd, 1), -EINVAL);
    cr_expect_eq(map(32, RW, 0x2000, 0x10000, 0x2000, &fd, 1), 0);
    close(fd);
}

/* M6 */
Test(kernel_dma, unmap_argsz_and_flags)
{
    cr_assert_eq(map(32, RW, 0, 0x10000, 0x1000, NULL, 0), 0);
    cr_expect_eq(unmap(23, 0, 0x10000, 0x1000), -EINVAL);
    cr_expect_eq(unmap(24, 0x100, 0x10000, 0x1000), -EINVAL);
    cr_expect_eq(unmap(4096, 0, 0x10000, 0x1000), 0);
}

/* M7, M8 */
Test(kernel_dma, unmap_exact_match)
{
    cr_assert_eq(map(32, RW, 0, 0x10000, 0x4000, NULL, 0), 0);
    cr_expect_eq(unmap(24, 0, 0x10000, 0x1000), -ENOENT);
    cr_expect_eq(unmap(24, 0, 0x11000, 0x3000), -ENOENT);
    cr_expect_eq(unmap(24, 0, 0x90000, 0x1000), -ENOENT);
    cr_expect_eq(unmap(24, VFIO_USER_F_DMA_UNMAP_ALL, 0x10000, 0), -EINVAL);
    cr_expect_eq(unmap(24, VFIO_USER_F_DMA_UNMAP_ALL, 0, 0x1000), -EINVAL);
    cr_expect_eq(unmap(24, 0, 0x10000, 0x4000), 0);
    cr_expect_eq(unmap(24, VFIO_USER_F_DMA_UNMAP_ALL, 0, 0), 0);
}
