# The .vdev front end: flex scanner, bison parser, AST and diagnostics.
DSL_SRCS := $(wildcard dsl/*.c)
DSL_GEN_C := $(B)/dsl/parser.c $(B)/dsl/lexer.c
DSL_OBJS := $(DSL_SRCS:%.c=$(B)/%.o) $(DSL_GEN_C:%.c=%.o)
DSL_CFLAGS = -I$(B)/dsl -Idsl
# flex/bison output is not ours to keep warning-clean.
DSL_GEN_CFLAGS = $(BASE_CFLAGS) -Wall -Wno-unused-function -Wno-sign-compare \
                 $(PKG_CFLAGS) $(DSL_CFLAGS) $(CFLAGS)

ifneq ($(wildcard dsl/parser.y),)
$(B)/dsl/parser.c $(B)/dsl/parser.h &: dsl/parser.y | $(DEPS_STAMP)
	@mkdir -p $(@D)
	bison -Wall -Werror -o $(B)/dsl/parser.c --defines=$(B)/dsl/parser.h $<
$(B)/dsl/lexer.c $(B)/dsl/lexer.h &: dsl/lexer.l $(B)/dsl/parser.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	flex -o $(B)/dsl/lexer.c --header-file=$(B)/dsl/lexer.h $<
$(B)/dsl/parser.o: $(B)/dsl/parser.c $(B)/dsl/lexer.h
	$(CC) $(DSL_GEN_CFLAGS) -c $< -o $@
$(B)/dsl/lexer.o: $(B)/dsl/lexer.c $(B)/dsl/parser.h
	$(CC) $(DSL_GEN_CFLAGS) -c $< -o $@
$(DSL_SRCS:%.c=$(B)/%.o): $(B)/dsl/parser.h $(B)/dsl/lexer.h
$(DSL_SRCS:%.c=$(B)/%.o): CFLAGS += -I$(B)/dsl -Idsl
LIBVDEVDSL := $(B)/libvdevdsl.a
$(LIBVDEVDSL): $(DSL_OBJS)
	rm -f $@ && ar rcs $@ $^
ALL_TARGETS += $(LIBVDEVDSL)
endif
