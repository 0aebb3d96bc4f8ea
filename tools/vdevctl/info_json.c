/* vdevctl info --json: the device's identity, regions, capabilities and
 * IRQs as data (tools/vdevctl/schema/info.json describes it). */
#include <json-c/json.h>
#include <linux/pci_regs.h>
#include <stdlib.h>

#include "vdevctl.h"
#include "info.h"

#define NEW_U64(v) json_object_new_uint64((uint64_t)(v))

static void
add(struct json_object *o, const char *key, struct json_object *v)
{
    json_object_object_add(o, key, v);
}

static struct json_object *
identity(const uint8_t *cfg)
{
    struct json_object *o = json_object_new_object();
    uint32_t class_code = rd32(cfg, PCI_CLASS_REVISION) >> 8;
    uint8_t pin = cfg[PCI_INTERRUPT_PIN];
    char p[2] = {(char)('A' + pin - 1), 0};

    add(o, "vendor_id", NEW_U64(rd16(cfg, PCI_VENDOR_ID)));
    add(o, "device_id", NEW_U64(rd16(cfg, PCI_DEVICE_ID)));
    add(o, "revision", NEW_U64(cfg[PCI_REVISION_ID]));
    add(o, "class_code", NEW_U64(class_code));
    add(o, "class_name",
        json_object_new_string(vdevctl_class_name(class_code)));
    add(o, "subsystem_vendor_id", NEW_U64(rd16(cfg, PCI_SUBSYSTEM_VENDOR_ID)));
    add(o, "subsystem_id", NEW_U64(rd16(cfg, PCI_SUBSYSTEM_ID)));
    add(o, "command", NEW_U64(rd16(cfg, PCI_COMMAND)));
    add(o, "status", NEW_U64(rd16(cfg, PCI_STATUS)));
    add(o, "interrupt_pin",
        pin >= 1 && pin <= 4 ? json_object_new_string(p) : NULL);
    return o;
}

static const char *
region_kind(const struct vdevctl_devinfo *d, unsigned index,
            struct vdevctl_bar *bar)
{
    if (index <= VFIO_PCI_BAR5_REGION_INDEX) {
        vdevctl_decode_bar(d->cfg, index, bar);
        return bar->io ? "io" : "memory";
    }
    if (index == VFIO_PCI_ROM_REGION_INDEX)
        return "rom";
    if (index == VFIO_PCI_VGA_REGION_INDEX)
        return "vga";
    return "device-specific";
}

static void
add_region_caps(struct json_object *o, const struct vdevctl_region *r)
{
    struct vdevctl_region_caps rc;

    vdevctl_region_caps(&r->ri, r->caps, r->caps_len, &rc);
    if (rc.sparse) {
        struct json_object *a = json_object_new_array();
        for (unsigned i = 0; i < rc.areas_read; i++) {
            struct json_object *e = json_object_new_object();
            add(e, "offset", NEW_U64(rc.areas[i].offset));
            add(e, "size", NEW_U64(rc.areas[i].size));
            json_object_array_add(a, e);
        }
        add(o, "sparse_mmap", a);
    }
    if (rc.typed) {
        add(o, "type", NEW_U64(rc.type));
        add(o, "subtype", NEW_U64(rc.subtype));
    }
}

static struct json_object *
region(const struct vdevctl_devinfo *d, const struct vdevctl_region *r)
{
    struct json_object *o = json_object_new_object();
    struct vdevctl_bar bar = {0};
    const char *kind = region_kind(d, r->index, &bar);
    char name[32];

    add(o, "index", NEW_U64(r->index));
    add(o, "name",
        json_object_new_string(
            vdevctl_region_name(r->index, name, sizeof(name))));
    add(o, "kind", json_object_new_string(kind));
    add(o, "size", NEW_U64(r->ri.size));
    add(o, "readable",
        json_object_new_boolean(r->ri.flags & VFIO_REGION_INFO_FLAG_READ));
    add(o, "writable",
        json_object_new_boolean(r->ri.flags & VFIO_REGION_INFO_FLAG_WRITE));
    add(o, "mmap",
        json_object_new_boolean(r->ri.flags & VFIO_REGION_INFO_FLAG_MMAP));
    if (r->index <= VFIO_PCI_BAR5_REGION_INDEX) {
        add(o, "address", NEW_U64(bar.addr));
        if (!bar.io) {
            add(o, "bits", NEW_U64(bar.is64 ? 64 : 32));
            add(o, "prefetchable", json_object_new_boolean(bar.prefetch));
        }
    }
    add_region_caps(o, r);
    return o;
}

static struct json_object *
capability(const uint8_t *cfg, const struct vdevctl_cap *c)
{
    struct json_object *o = json_object_new_object();
    const char *name = vdevctl_cap_name(c);

    add(o, "offset", NEW_U64(c->offset));
    add(o, "id", NEW_U64(c->id));
    add(o, "extended", json_object_new_boolean(c->extended));
    add(o, "name", name ? json_object_new_string(name) : NULL);
    if (c->extended)
        add(o, "version", NEW_U64(c->version));
    if (!c->extended && c->id == PCI_CAP_ID_MSI) {
        uint16_t ctl = rd16(cfg, c->offset + PCI_MSI_FLAGS);
        add(o, "vectors", NEW_U64(1u << ((ctl & PCI_MSI_FLAGS_QMASK) >> 1)));
        add(o, "enabled", json_object_new_boolean(ctl & PCI_MSI_FLAGS_ENABLE));
    } else if (!c->extended && c->id == PCI_CAP_ID_MSIX) {
        uint16_t ctl = rd16(cfg, c->offset + PCI_MSIX_FLAGS);
        add(o, "vectors", NEW_U64((ctl & PCI_MSIX_FLAGS_QSIZE) + 1));
        add(o, "enabled", json_object_new_boolean(ctl & PCI_MSIX_FLAGS_ENABLE));
    }
    return o;
}

static struct json_object *
irqs(const struct vdevctl_devinfo *d)
{
    static const char *const names[VDEVCTL_NR_IRQ_INDEXES] = {
        "intx", "msi", "msix", "err", "req"};
    struct json_object *o = json_object_new_object();

    for (unsigned i = 0; i < VDEVCTL_NR_IRQ_INDEXES; i++)
        add(o, names[i], NEW_U64(i < d->nr_irqs ? d->irq_counts[i] : 0));
    return o;
}

struct json_object *
vdevctl_info_json(const struct vdevctl_devinfo *d, size_t hex_len)
{
    static struct vdevctl_cap caps[1024 + 64];
    struct json_object *o = identity(d->cfg);
    struct json_object *a = json_object_new_array();
    unsigned n;

    add(o, "config_size", NEW_U64(d->cfg_size));
    for (unsigned i = 0; i < d->nr_regions; i++) {
        unsigned idx = d->regions[i].index;
        struct vdevctl_bar bar = {0};
        if (idx <= VFIO_PCI_BAR5_REGION_INDEX) {
            vdevctl_decode_bar(d->cfg, idx, &bar);
            if (bar.upper_half)
                continue;
        }
        json_object_array_add(a, region(d, &d->regions[i]));
    }
    add(o, "regions", a);
    a = json_object_new_array();
    n = vdevctl_list_caps(d->cfg, d->cfg_size, caps, 1024 + 64);
    for (unsigned i = 0; i < n; i++)
        json_object_array_add(a, capability(d->cfg, &caps[i]));
    add(o, "capabilities", a);
    add(o, "irqs", irqs(d));
    if (hex_len) {
        char *hex = malloc(hex_len * 2 + 1);
        if (hex) {
            for (size_t i = 0; i < hex_len; i++)
                snprintf(hex + 2 * i, 3, "%02x", d->cfg[i]);
            add(o, "config", json_object_new_string(hex));
            free(hex);
        }
    }
    return o;
}
