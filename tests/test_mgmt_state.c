/* Management channel save/load: a device's state moved between two devices
 * through a file, as the demo moves it between two servers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <talloc.h>
#include <unistd.h>

#include "migration/migration.h"
#include "vdev.h"
#include "vdev_client.h"

struct st_state {
    uint32_t pins;
    uint64_t counter;
};

static const struct vdev_mig_field st_fields[] = {
    {"pins", 0x1001, 1, offsetof(struct st_state, pins), 4},
    {"counter", 0x1002, 1, offsetof(struct st_state, counter), 8},
};

struct st_side {
    struct vdev_dev *dev;
    struct st_state state;
    pthread_t thread;
    char path[128];
};

static struct st_side src, dst;
static char st_dir[64];
static const struct vdev_var *st_var; /* registered before the loop runs */

static void *
st_run(void *arg)
{
    return (void *)(intptr_t)vdev_run(arg);
}

static void
side_start_stopped(struct st_side *s, const char *name, bool migratable,
                   bool stopped)
{
    static const struct vdev_pci_ident ident = {
        .vendor_id = 0x494f,
        .device_id = 0x0dc8,
        .class_code = 0xff0000,
    };
    struct vdev_mig_desc d = {
        .device = "mgmt-state-test",
        .version = 1,
        .fields = st_fields,
        .nr_fields = 2,
        .state = &s->state,
        .state_size = sizeof(s->state),
    };

    s->dev = vdev_dev_create(NULL, name, &ident);
    cr_assert_not_null(s->dev);
    vdev_set_log(s->dev, NULL, NULL, VDEV_LOG_ERROR);
    if (migratable)
        cr_assert_eq(vdev_set_migration(s->dev, &d), 0);
    snprintf(s->path, sizeof(s->path), "%s/%s.mgmt", st_dir, name);
    cr_assert_eq(vdev_mgmt_listen(s->dev, s->path), 0);
    if (st_var)
        cr_assert_eq(vdev_register_vars(s->dev, st_var, 1), 0);
    /* As a VMM's migration would leave it; before the loop runs. */
    if (stopped)
        cr_assert_eq(
            vdev_mig_set_state(s->dev, VFIO_DEVICE_STATE_STOP, VDEV_MIG_V2), 0);
    cr_assert_eq(pthread_create(&s->thread, NULL, st_run, s->dev), 0);
}

static void
side_start(struct st_side *s, const char *name, bool migratable)
{
    side_start_stopped(s, name, migratable, false);
}

static void
side_stop(struct st_side *s)
{
    if (!s->dev)
        return;
    vdev_stop(s->dev);
    pthread_join(s->thread, NULL);
    talloc_free(s->dev);
    s->dev = NULL;
}

static void
setup(void)
{
    strcpy(st_dir, "/tmp/vdev-mstate-XXXXXX");
    cr_assert_not_null(mkdtemp(st_dir));
    memset(&src, 0, sizeof(src));
    memset(&dst, 0, sizeof(dst));
    src.state = (struct st_state){.pins = 0xa5a5, .counter = 1234567};
    side_start(&src, "src", true);
    side_start(&dst, "dst", true);
}

static void
teardown(void)
{
    char cmd[128];

    side_stop(&src);
    side_stop(&dst);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", st_dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(mgmt_state, .init = setup, .fini = teardown, .timeout = 30);

Test(mgmt_state, save_then_load_moves_the_state)
{
    char file[128], reply[256];
    struct stat st;

    snprintf(file, sizeof(file), "%s/gpio.state", st_dir);
    cr_assert_eq(vdev_mgmt_client_save(src.path, file, reply, sizeof(reply)), 0,
                 "%s", reply);
    cr_expect(!strncmp(reply, "ok saved ", 9), "%s", reply);
    cr_assert_eq(stat(file, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600);
    cr_expect_gt(st.st_size, 0);

    cr_assert_eq(vdev_mgmt_client_load(dst.path, file, reply, sizeof(reply)), 0,
                 "%s", reply);
    cr_expect(!strncmp(reply, "ok loaded ", 10), "%s", reply);
    cr_expect_eq(dst.state.pins, 0xa5a5);
    cr_expect_eq(dst.state.counter, 1234567);
}

Test(mgmt_state, relative_file_is_the_callers)
{
    char reply[256], file[128];
    char *cwd = getcwd(NULL, 0);

    cr_assert_eq(chdir(st_dir), 0);
    cr_expect_eq(
        vdev_mgmt_client_save(src.path, "rel.state", reply, sizeof(reply)), 0,
        "%s", reply);
    cr_assert_eq(chdir(cwd), 0);
    free(cwd);
    snprintf(file, sizeof(file), "%s/rel.state", st_dir);
    cr_expect_eq(access(file, F_OK), 0);
    cr_expect_eq(vdev_mgmt_client_save(src.path, "a b", reply, sizeof(reply)),
                 -EINVAL);
}

Test(mgmt_state, bad_files_change_nothing)
{
    char file[128], reply[256], line[200];
    int fd;

    dst.state = (struct st_state){.pins = 7, .counter = 8};
    snprintf(file, sizeof(file), "%s/junk", st_dir);
    fd = open(file, O_CREAT | O_WRONLY, 0600);
    cr_assert_eq(write(fd, "not a stream at all", 19), 19);
    close(fd);
    cr_expect_eq(vdev_mgmt_client_load(dst.path, file, reply, sizeof(reply)),
                 -EREMOTEIO);
    cr_expect(!strncmp(reply, "error: load ", 12), "%s", reply);

    /* A real stream cut short. */
    snprintf(file, sizeof(file), "%s/cut", st_dir);
    cr_assert_eq(vdev_mgmt_client_save(src.path, file, reply, sizeof(reply)),
                 0);
    cr_assert_eq(truncate(file, 20), 0);
    cr_expect_eq(vdev_mgmt_client_load(dst.path, file, reply, sizeof(reply)),
                 -EREMOTEIO);

    snprintf(file, sizeof(file), "%s/missing", st_dir);
    cr_expect_eq(vdev_mgmt_client_load(dst.path, file, reply, sizeof(reply)),
                 -EREMOTEIO);
    cr_expect_not_null(strstr(reply, "No such file"), "%s", reply);
    cr_expect_eq(vdev_mgmt_client_load(dst.path, st_dir, reply, sizeof(reply)),
                 -EREMOTEIO, "a directory");
    snprintf(line, sizeof(line), "save %s/nodir/x", st_dir);
    cr_expect_eq(vdev_mgmt_client_command(src.path, line, reply, sizeof(reply)),
                 -EREMOTEIO);
    cr_expect_eq(dst.state.pins, 7);
    cr_expect_eq(dst.state.counter, 8);
}

Test(mgmt_state, device_without_migration)
{
    struct st_side plain;
    char file[128], reply[256];

    memset(&plain, 0, sizeof(plain));
    side_start(&plain, "plain", false);
    snprintf(file, sizeof(file), "%s/p.state", st_dir);
    cr_expect_eq(vdev_mgmt_client_save(plain.path, file, reply, sizeof(reply)),
                 -EREMOTEIO);
    cr_expect_not_null(strstr(reply, "no migratable state"), "%s", reply);
    cr_expect_eq(access(file, F_OK), -1, "no empty file left");
    side_stop(&plain);
}

static uint64_t st_pins = 3;

static uint64_t
pins_get(struct vdev_dev *dev)
{
    return st_pins;
}

static int
pins_set(struct vdev_dev *dev, uint64_t v)
{
    st_pins = v;
    return 0;
}

Test(mgmt_state, stopped_device_refuses_set_and_load)
{
    static const struct vdev_var var = {.name = "pins",
                                        .bits = 16,
                                        .external = true,
                                        .get = pins_get,
                                        .set = pins_set};
    struct st_side stopped;
    char file[128], reply[256];

    memset(&stopped, 0, sizeof(stopped));
    snprintf(file, sizeof(file), "%s/s.state", st_dir);
    cr_assert_eq(vdev_mgmt_client_save(src.path, file, reply, sizeof(reply)),
                 0);
    st_var = &var;
    side_start_stopped(&stopped, "stopped", true, true);
    st_var = NULL;
    cr_expect_eq(vdev_mgmt_client_command(stopped.path, "set pins 5", reply,
                                          sizeof(reply)),
                 -EREMOTEIO);
    cr_expect_not_null(strstr(reply, "stopped"), "%s", reply);
    cr_expect_eq(st_pins, 3);
    cr_expect_eq(
        vdev_mgmt_client_load(stopped.path, file, reply, sizeof(reply)),
        -EREMOTEIO);
    cr_expect_not_null(strstr(reply, "migration is in progress"), "%s", reply);
    cr_expect_eq(vdev_mgmt_client_command(stopped.path, "get pins", reply,
                                          sizeof(reply)),
                 0, "reading is fine");
    cr_expect_str_eq(reply, "ok pins=0x0003");
    side_stop(&stopped);
}
