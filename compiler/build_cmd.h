/* `vdevc build FILE.vdev [COMPANION.c...] [-o BIN]`: compile and link a
 * server program against the installed libvdev (build_cmd.c). */
#ifndef VDEVC_BUILD_CMD_H
#define VDEVC_BUILD_CMD_H

/* argv[0] is "build". Returns the exit status. */
int vdevc_build_main(int argc, char **argv);

#endif /* VDEVC_BUILD_CMD_H */
