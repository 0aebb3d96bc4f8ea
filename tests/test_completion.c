/* Bash completion (completion/): what vdevctl and vdevc complete, as bash
 * would call the functions (COMP_WORDS split at '=' too), against a live
 * GPIO card server for the value names. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <talloc.h>

#include "model_server.h"
#include "vdevc_test.h"

static struct model_server srv;

static void
setup(void)
{
    model_server_start(&srv, "gpio-pci-idio-16");
}

static void
teardown(void)
{
    model_server_stop(&srv);
}

TestSuite(completion, .init = setup, .fini = teardown, .timeout = 60);

/* Completes words (a bash array literal, the last word the one being
 * completed) with the function fn of completion/FILE; the candidates, one
 * per line. */
static char *
complete(void *ctx, const char *file, const char *fn, const char *words)
{
    const char *b = getenv("VDEV_BUILD");
    char *cwd = getcwd(NULL, 0);
    char *script = talloc_asprintf(
        ctx,
        "PATH=%s/%s/bin:$PATH; source completion/%s; COMP_WORDS=(%s); "
        "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); %s; "
        "printf '%%s\\n' \"${COMPREPLY[@]}\"",
        cwd, b ? b : "build", file, words, fn);
    char *const argv[] = {
        (char *)"/bin/bash", (char *)"--norc", (char *)"--noprofile",
        (char *)"-c",        script,           NULL};
    char *out = NULL, *err = NULL;
    int st = vt_run(ctx, argv, &out, &err);

    free(cwd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: %s", words, err);
    cr_expect_str_eq(err, "", "%s", words);
    return out;
}

#define vdevctl_completes(words, want)                                         \
    cr_expect_str_eq(complete(ctx, "vdevctl.bash", "_vdevctl", words), want,   \
                     "vdevctl %s", words)
#define vdevc_completes(words, want)                                           \
    cr_expect_str_eq(complete(ctx, "vdevc.bash", "_vdevc", words), want,       \
                     "vdevc %s", words)

Test(completion, vdevctl)
{
    void *ctx = talloc_new(NULL);
    const char *s = srv.sock, *m = srv.mgmt;

    vdevctl_completes(talloc_asprintf(ctx, "vdevctl %s/d", srv.dir),
                      talloc_asprintf(ctx, "%s\n%s\n", s, m));
    vdevctl_completes(talloc_asprintf(ctx, "vdevctl %s ''", s),
                      "info\nread\nwrite\nreset\nsave\nload\n");
    vdevctl_completes(talloc_asprintf(ctx, "vdevctl -j %s ''", m),
                      "list\nget\nset\nstats\nwatch\nupgrade\nmgmt\n");
    /* the names come from the server; set offers only external ones */
    vdevctl_completes(talloc_asprintf(ctx, "vdevctl %s set ''", m),
                      "state.inputs\n");
    vdevctl_completes(talloc_asprintf(ctx, "vdevctl %s get irq_status.", m),
                      "irq_status.low\nirq_status.high\nirq_status.pending\n");
    vdevctl_completes(talloc_asprintf(ctx, "vdevctl %s read c", s), "config\n");
    vdevctl_completes(talloc_asprintf(ctx, "vdevctl %s write bar2 0 ''", s),
                      "1\n2\n4\n8\n");
    vdevctl_completes(talloc_asprintf(ctx, "vdevctl --interval = 0.5 %s w", m),
                      "watch\n");
    vdevctl_completes("vdevctl --j", "--json\n");
    vdevctl_completes("vdevctl --in", "--interval=\n");
    talloc_free(ctx);
}

Test(completion, vdevc)
{
    void *ctx = talloc_new(NULL);
    static const char *const kinds[] = {"c",   "h",       "json",
                                        "doc", "guest-h", "check"};

    /* options come from vdevc --help */
    vdevc_completes("vdevc --he", "--header=\n--help\n");
    vdevc_completes("vdevc --check", "--check-migration\n");
    vdevc_completes("vdevc --emit = ''", "c\nh\njson\ndoc\nguest-h\ncheck\n");
    vdevc_completes("vdevc --emit = g", "guest-h\n");
    vdevc_completes("vdevc --emit=j", "json\n");
    vdevc_completes("vdevc models/gpio", "models/gpio-pci-idio-16.vdev\n");
    /* vdevc build: the subcommand, its options, companion C */
    vdevc_completes("vdevc fm", "fmt\n");
    {
        /* the subcommands once each, among the folders and .vdev files */
        char *all = complete(ctx, "vdevc.bash", "_vdevc", "vdevc ''");
        unsigned builds = 0, fmts = 0;

        for (char *l = all; l && *l; l = strchr(l, '\n') + 1) {
            builds += !strncmp(l, "build\n", 6);
            fmts += !strncmp(l, "fmt\n", 4);
        }
        cr_expect(builds == 1 && fmts == 1, "%s", all);
    }
    vdevc_completes("vdevc build --st", "--static\n");
    vdevc_completes("vdevc build models/edu.vdev models/ed",
                    "models/edu.vdev\nmodels/edu.c\n");
    /* every kind it offers is one vdevc takes */
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        char *const argv[] = {(char *)vt_vdevc(ctx),
                              talloc_asprintf(ctx, "--emit=%s", kinds[i]),
                              (char *)"-o",
                              (char *)"/dev/null",
                              (char *)"models/edu.vdev",
                              NULL};
        char *out = NULL, *err = NULL;
        int st = vt_run(ctx, argv, &out, &err);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "--emit=%s: %s",
                  kinds[i], err);
    }
    talloc_free(ctx);
}
