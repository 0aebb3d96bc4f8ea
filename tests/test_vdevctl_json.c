/* vdevctl --json: the output of every subcommand against real model
 * servers validates against its schema in tools/vdevctl/schema/, the
 * values in it are the device's, and documents that break a schema are
 * caught (so the schemas are real contracts, not "anything goes"). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model_server.h"
#include "vdevctl_run.h"

static struct model_server srv;

static void
setup(void)
{
    model_server_start(&srv, "gpio-pci-idio-16");
    model_server_detach(&srv); /* vdevctl is the vfio-user client */
}

static void
teardown(void)
{
    model_server_stop(&srv);
}

TestSuite(vdevctl_json, .init = setup, .fini = teardown, .timeout = 60);

/* Asserts success and a valid document; returns it parsed (caller puts). */
static struct json_object *
expect_valid(struct vdevctl_run *r, const char *schema)
{
    char why[4096];

    cr_assert_eq(r->status, 0, "exit %d: %s", r->status, r->err);
    cr_assert_eq(json_schema_check(schema, r->out, false, why, sizeof(why)), 0,
                 "%s.json rejects:\n%s\n%s", schema, r->out, why);
    struct json_object *o = json_tokener_parse(r->out);
    cr_assert_not_null(o, "%s", r->out);
    return o;
}

static uint64_t
field_u64(struct json_object *o, const char *key)
{
    struct json_object *v;

    cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
    return json_object_get_uint64(v);
}

static const char *
field_str(struct json_object *o, const char *key)
{
    struct json_object *v;

    cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
    return json_object_get_string(v);
}

Test(vdevctl_json, vfio_user_commands)
{
    struct vdevctl_run r;
    struct json_object *o;
    char file[256];

    vdevctl_run(&r, "--json", srv.sock, "info", NULL);
    o = expect_valid(&r, "info");
    cr_expect_eq(field_u64(o, "vendor_id"), 0x494f);
    cr_expect_eq(field_u64(o, "device_id"), 0x0dc8);
    cr_expect_str_eq(field_str(o, "interrupt_pin"), "A");
    struct json_object *regions, *bar;
    cr_assert(json_object_object_get_ex(o, "regions", &regions));
    /* BAR2, then the (legacy) migration region */
    cr_assert_eq(json_object_array_length(regions), 2, "%s", r.out);
    bar = json_object_array_get_idx(regions, 0);
    cr_expect_str_eq(field_str(bar, "name"), "bar2");
    cr_expect_str_eq(field_str(json_object_array_get_idx(regions, 1), "kind"),
                     "device-specific");
    cr_expect_str_eq(field_str(bar, "kind"), "io");
    cr_expect_eq(field_u64(bar, "size"), 8);
    cr_expect_null(strstr(r.out, "\"config\""), "config only with -x");
    json_object_put(o);
    vdevctl_run_free(&r);

    vdevctl_run(&r, "-xxx", srv.sock, "--json", "info", NULL);
    o = expect_valid(&r, "info");
    cr_expect_eq(strlen(field_str(o, "config")), 512);
    cr_expect_eq(strncmp(field_str(o, "config"), "4f49c80d", 8), 0);
    json_object_put(o);
    vdevctl_run_free(&r);

    vdevctl_run(&r, "-j", srv.sock, "write", "bar2", "0", "1", "0xa5", NULL);
    o = expect_valid(&r, "access");
    cr_expect_eq(field_u64(o, "value"), 0xa5);
    json_object_put(o);
    vdevctl_run_free(&r);

    vdevctl_run(&r, "-j", srv.sock, "read", "bar2", "0", "1", NULL);
    o = expect_valid(&r, "access");
    cr_expect_str_eq(field_str(o, "region"), "bar2");
    cr_expect_eq(field_u64(o, "region_index"), 2);
    cr_expect_eq(field_u64(o, "value"), 0xa5);
    cr_expect_str_eq(field_str(o, "hex"), "0xa5");
    json_object_put(o);
    vdevctl_run_free(&r);

    vdevctl_run(&r, "-j", srv.sock, "read", "config", "0", "4", NULL);
    o = expect_valid(&r, "access");
    cr_expect_str_eq(field_str(o, "hex"), "0x0dc8494f");
    json_object_put(o);
    vdevctl_run_free(&r);

    snprintf(file, sizeof(file), "%s/state", srv.dir);
    vdevctl_run(&r, "-j", srv.sock, "save", file, NULL);
    o = expect_valid(&r, "state");
    cr_expect_str_eq(field_str(o, "device"), "stopped");
    cr_expect_gt(field_u64(o, "bytes"), 0);
    json_object_put(o);
    vdevctl_run_free(&r);

    vdevctl_run(&r, "-j", srv.sock, "load", file, NULL);
    o = expect_valid(&r, "state");
    cr_expect_str_eq(field_str(o, "device"), "running");
    json_object_put(o);
    vdevctl_run_free(&r);
    unlink(file);

    vdevctl_run(&r, "-j", srv.sock, "reset", NULL);
    json_object_put(expect_valid(&r, "reset"));
    vdevctl_run_free(&r);
    vdevctl_run(&r, srv.sock, "read", "bar2", "0", "1", NULL);
    cr_expect_str_eq(r.out, "0x00\n", "reset took effect");
    vdevctl_run_free(&r);
}

Test(vdevctl_json, management_commands)
{
    struct vdevctl_run r;
    struct json_object *o, *vals, *e;
    char why[4096];
    bool seen = false;

    vdevctl_run(&r, "--json", srv.mgmt, "set", "state.inputs", "0x8001", NULL);
    o = expect_valid(&r, "value");
    cr_expect_str_eq(field_str(o, "name"), "state.inputs");
    cr_expect_eq(field_u64(o, "value"), 0x8001);
    cr_expect_str_eq(field_str(o, "hex"), "0x8001");
    json_object_put(o);
    vdevctl_run_free(&r);

    vdevctl_run(&r, "--json", srv.mgmt, "get", "in8_15", NULL);
    o = expect_valid(&r, "value");
    cr_expect_eq(field_u64(o, "value"), 0x80);
    json_object_put(o);
    vdevctl_run_free(&r);

    vdevctl_run(&r, "--json", srv.mgmt, "list", NULL);
    o = expect_valid(&r, "list");
    cr_assert(json_object_object_get_ex(o, "values", &vals));
    for (size_t i = 0; i < json_object_array_length(vals); i++) {
        e = json_object_array_get_idx(vals, i);
        if (strcmp(field_str(e, "name"), "state.inputs"))
            continue;
        seen = true;
        cr_expect_eq(field_u64(e, "bits"), 16);
        cr_expect_eq(field_u64(e, "value"), 0x8001);
        cr_expect_str_eq(field_str(e, "hex"), "0x8001");
        cr_expect_str_eq(field_str(e, "description"),
                         "isolated inputs IIN0..IIN15");
        struct json_object *x;
        cr_assert(json_object_object_get_ex(e, "external", &x));
        cr_expect(json_object_get_boolean(x));
    }
    cr_expect(seen, "%s", r.out);
    json_object_put(o);
    vdevctl_run_free(&r);

    vdevctl_run(&r, "--json", srv.mgmt, "stats", NULL);
    json_object_put(expect_valid(&r, "stats"));
    vdevctl_run_free(&r);

    vdevctl_run(&r, "--json", srv.mgmt, "mgmt", "info", NULL);
    o = expect_valid(&r, "mgmt");
    cr_expect_str_eq(field_str(o, "request"), "info");
    cr_expect_not_null(strstr(field_str(o, "reply"), "vendor=0x494f"));
    json_object_put(o);
    vdevctl_run_free(&r);

    /* watch: one document per line, per refresh */
    vdevctl_run(&r, "--json", srv.mgmt, "watch", "--count=3", "--interval=0.05",
                NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(json_schema_check("watch", r.out, true, why, sizeof(why)), 0,
                 "%s\n%s", r.out, why);
    unsigned lines = 0;
    for (const char *p = r.out; (p = strchr(p, '\n')); p++)
        lines++;
    cr_expect_eq(lines, 3, "%s", r.out);
    cr_expect_not_null(strstr(r.out, "\"name\":\"state.inputs\",\"value\":"
                                     "32769,\"hex\":\"0x8001\",\"previous\":"
                                     "null"),
                       "%s", r.out);
    vdevctl_run_free(&r);
}

Test(vdevctl_json, upgrade)
{
    const char *b = getenv("VDEV_BUILD");
    char bin[256];
    struct vdevctl_run r;
    struct json_object *o;

    snprintf(bin, sizeof(bin), "%s/bin/vdev-gpio-pci-idio-16", b ? b : "build");
    vdevctl_run(&r, "--json", srv.mgmt, "upgrade", bin, NULL);
    o = expect_valid(&r, "upgrade");
    pid_t pid = (pid_t)field_u64(o, "pid");
    json_object_put(o);
    vdevctl_run_free(&r);
    cr_expect_neq(pid, srv.pid);
    /* the successor serves the same device */
    vdevctl_run(&r, srv.mgmt, "get", "state.inputs", NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    vdevctl_run_free(&r);
    cr_assert_eq(kill(pid, SIGTERM), 0);
    for (int i = 0; i < 500 && kill(pid, 0) == 0; i++)
        usleep(10000);
}

Test(vdevctl_json, failures_are_json_too)
{
    struct vdevctl_run r;
    struct json_object *o, *e;
    char path[256];

    snprintf(path, sizeof(path), "%s/none.sock", srv.dir);
    vdevctl_run(&r, "--json", path, "info", NULL);
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(strstr(r.err, "no server at"), "%s", r.err);
    r.status = 0; /* the document is what is checked here */
    o = expect_valid(&r, "error");
    cr_assert(json_object_object_get_ex(o, "error", &e));
    cr_expect_str_eq(field_str(e, "kind"), "no-server");
    cr_expect_eq(field_u64(e, "exit_status"), 1);
    cr_expect_str_eq(field_str(e, "socket"), path);
    json_object_put(o);
    vdevctl_run_free(&r);

    vdevctl_run(&r, "--json", srv.sock, "frobnicate", NULL);
    cr_expect_eq(r.status, 2);
    r.status = 0;
    o = expect_valid(&r, "error");
    cr_assert(json_object_object_get_ex(o, "error", &e));
    cr_expect_str_eq(field_str(e, "kind"), "usage");
    json_object_put(o);
    vdevctl_run_free(&r);

    vdevctl_run(&r, "--json", srv.mgmt, "set", "out0_7", "1", NULL);
    cr_expect_eq(r.status, 1);
    r.status = 0;
    o = expect_valid(&r, "error");
    cr_assert(json_object_object_get_ex(o, "error", &e));
    cr_expect_str_eq(field_str(e, "kind"), "refused");
    cr_expect_not_null(strstr(field_str(e, "message"), "read-only"));
    json_object_put(o);
    vdevctl_run_free(&r);
}

/* The schemas reject what they should: a wrong type, a missing key, an
 * extra key, a value out of range, and text that is not JSON. */
Test(vdevctl_json, wrong_documents_fail, .init = NULL, .fini = NULL)
{
    static const struct {
        const char *schema, *doc;
    } bad[] = {
        {"list", "{\"values\":[{\"name\":\"a\",\"bits\":\"8\",\"value\":1,"
                 "\"hex\":\"0x01\",\"external\":false,\"description\":\"\"}]}"},
        {"list", "{\"values\":[{\"name\":\"a\",\"bits\":8,\"value\":1,"
                 "\"hex\":\"0x01\",\"external\":false}]}"},
        {"list", "{\"values\":[{\"name\":\"a\",\"bits\":65,\"value\":1,"
                 "\"hex\":\"0x01\",\"external\":false,\"description\":\"\"}]}"},
        {"value", "{\"name\":\"a\",\"value\":-1,\"hex\":\"0x01\"}"},
        {"access", "{\"region\":\"bar2\",\"region_index\":2,\"offset\":0,"
                   "\"width\":3,\"value\":1,\"hex\":\"0x01\"}"},
        {"stats", "{\"messages\":1}"},
        {"upgrade", "{\"pid\":1,\"extra\":true}"},
        {"error", "{\"error\":{\"kind\":\"oops\",\"message\":\"x\","
                  "\"exit_status\":1}}"},
        {"info", "{}"},
        {"reset", "not json"},
    };
    static const char good[] = "{\"name\":\"a\",\"value\":1,\"hex\":\"0x01\"}";
    char why[4096];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect_eq(json_schema_check(bad[i].schema, bad[i].doc, false, why,
                                       sizeof(why)),
                     1, "%s accepted %s", bad[i].schema, bad[i].doc);
    cr_expect_eq(json_schema_check("value", good, false, why, sizeof(why)), 0,
                 "%s", why);
}
