/* vdevctl read / write / reset: one region access or a device reset over
 * vfio-user, and the argument parsing they share. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "vdev_client.h"
#include "vdevctl.h"

bool
vdevctl_parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

bool
vdevctl_parse_region(const char *s, uint32_t *out)
{
    uint64_t n;

    if (strncmp(s, "bar", 3) == 0 && s[3] >= '0' && s[3] <= '5' && !s[4]) {
        *out = (uint32_t)(s[3] - '0');
        return true;
    }
    if (strcmp(s, "rom") == 0) {
        *out = VFIO_PCI_ROM_REGION_INDEX;
        return true;
    }
    if (strcmp(s, "config") == 0) {
        *out = VFIO_PCI_CONFIG_REGION_INDEX;
        return true;
    }
    if (vdevctl_parse_u64(s, &n) && n <= UINT32_MAX) {
        *out = (uint32_t)n;
        return true;
    }
    return false;
}

const char *
vdevctl_region_name(uint32_t index, char *buf, size_t len)
{
    if (index <= VFIO_PCI_BAR5_REGION_INDEX)
        snprintf(buf, len, "bar%u", index);
    else if (index == VFIO_PCI_ROM_REGION_INDEX)
        snprintf(buf, len, "rom");
    else if (index == VFIO_PCI_CONFIG_REGION_INDEX)
        snprintf(buf, len, "config");
    else if (index == VFIO_PCI_VGA_REGION_INDEX)
        snprintf(buf, len, "vga");
    else
        snprintf(buf, len, "region%u", index);
    return buf;
}

/* Region data travels in host byte order (vfio-user spec). */
static uint64_t
width_get(const uint8_t *buf, unsigned width)
{
    uint8_t b;
    uint16_t h;
    uint32_t w;
    uint64_t q;

    switch (width) {
    case 1:
        memcpy(&b, buf, 1);
        return b;
    case 2:
        memcpy(&h, buf, 2);
        return h;
    case 4:
        memcpy(&w, buf, 4);
        return w;
    default:
        memcpy(&q, buf, 8);
        return q;
    }
}

static void
width_put(uint8_t *buf, unsigned width, uint64_t v)
{
    uint8_t b = (uint8_t)v;
    uint16_t h = (uint16_t)v;
    uint32_t w = (uint32_t)v;

    switch (width) {
    case 1:
        memcpy(buf, &b, 1);
        break;
    case 2:
        memcpy(buf, &h, 2);
        break;
    case 4:
        memcpy(buf, &w, 4);
        break;
    default:
        memcpy(buf, &v, 8);
        break;
    }
}

static void
print_access_json(const struct vdevctl_access *a)
{
    struct json_object *o = json_object_new_object();
    char name[32];

    json_object_object_add(o, "region",
                           json_object_new_string(vdevctl_region_name(
                               a->region, name, sizeof(name))));
    json_object_object_add(o, "region_index", json_object_new_int(a->region));
    json_object_object_add(o, "offset", json_object_new_uint64(a->offset));
    json_object_object_add(o, "width", json_object_new_int((int)a->width));
    json_object_object_add(o, "value", json_object_new_uint64(a->value));
    json_object_object_add(o, "hex", vdevctl_json_hex(a->value, a->width * 2));
    vdevctl_json_print(o);
}

int
vdevctl_read(struct vdevctl *c, struct vdev_client *cl)
{
    struct vdevctl_access *a = &c->acc;
    uint8_t buf[8];
    int rc = vdev_client_region_read(cl, a->region, a->offset, buf, a->width);

    if (rc < 0)
        return vdevctl_fail_errno(c, "read", rc);
    a->value = width_get(buf, a->width);
    if (c->json)
        print_access_json(a);
    else
        printf("0x%0*" PRIx64 "\n", (int)a->width * 2, a->value);
    return 0;
}

int
vdevctl_write(struct vdevctl *c, struct vdev_client *cl)
{
    struct vdevctl_access *a = &c->acc;
    uint8_t buf[8];
    int rc;

    width_put(buf, a->width, a->value);
    rc = vdev_client_region_write(cl, a->region, a->offset, buf, a->width);
    if (rc < 0)
        return vdevctl_fail_errno(c, "write", rc);
    if (c->json)
        print_access_json(a);
    return 0;
}

int
vdevctl_reset(struct vdevctl *c, struct vdev_client *cl)
{
    int rc = vdev_client_reset(cl);

    if (rc < 0)
        return vdevctl_fail_errno(c, "reset", rc);
    if (c->json) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "reset", json_object_new_boolean(1));
        vdevctl_json_print(o);
    }
    return 0;
}
