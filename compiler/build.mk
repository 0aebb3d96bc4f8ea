# vdevc: semantic checks and code generation on top of the dsl/ front end.
COMPILER_SRCS := $(filter-out compiler/main.c,$(wildcard compiler/*.c))
COMPILER_OBJS := $(COMPILER_SRCS:%.c=$(B)/%.o)
VDEVC := $(B)/bin/vdevc

$(COMPILER_OBJS) $(B)/compiler/main.o: CFLAGS += -I$(B)/dsl -Idsl -Icompiler
$(COMPILER_OBJS) $(B)/compiler/main.o: | $(B)/dsl/parser.h $(B)/dsl/lexer.h

ifneq ($(wildcard compiler/main.c),)
LIBVDEVC := $(B)/libvdevc.a
$(LIBVDEVC): $(COMPILER_OBJS)
	rm -f $@ && ar rcs $@ $^
$(VDEVC): $(B)/compiler/main.o $(LIBVDEVC) $(LIBVDEVDSL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
ALL_TARGETS += $(VDEVC)
INSTALL_BINS += $(VDEVC)
endif
