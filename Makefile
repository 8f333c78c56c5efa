# Makefile - hospital remote-maintenance bastion.
#
#   make            build every program (-Wall -Wextra -Werror)
#   make deps       install the Debian packages (idempotent)
#   make check      deps, build, unit tests (cmocka), end-to-end tests (pytest),
#                   and check-boot when root
#   make check-asan the same under AddressSanitizer + UBSan (build-asan/)
#   make check-boot install into a Debian 12 tree booted under systemd
#                   (systemd-nspawn) and check the live units (root)
#   make demo       run the bastion with demo vendors and devices
#   make demo-stop  stop it
#   make bench      benchmarks against OpenSSH (prints a table)
#
# Sources are picked up by directory, so adding a file needs no Makefile edit:
#   common/*.c         -> $(B)/libbastion-common.a (linked into everything)
#   bastion/*.c        -> $(B)/bastiond
#   recorder/lib/*.c   -> $(B)/librecorder.a
#   recorder/*.c       -> $(B)/<name>         (one program each)
#   ctl/*.c            -> $(B)/bastionctl     (one file per verb)
#   pam/*.c            -> $(B)/pam_bastion.so
#   tests/unit/test_*.c-> $(B)/tests/test_*   (one cmocka binary each)
#   tests/tools/*.c    -> $(B)/tests/<name>   (helpers the e2e tests run)
#   tests/softsk/*.c   -> $(B)/tests/softsk.so (software security key)
#
# $(B)/bastiond-testhooks is bastiond with the test hooks compiled in
# (-DBASTION_TEST_HOOKS: a compromised child, a forbidden system call;
# tests/e2e/test_privsep.py, test_sandbox.py). It is built by `make tests`
# only, sits beside bastion-recorder as bastiond must, and is never
# installed; bastiond itself has no hook, whatever its environment says.

SAN ?= 0
ifeq ($(SAN),1)
B ?= build-asan
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
else
B ?= build
SANFLAGS =
endif

CC ?= cc
PYTHON = /usr/bin/python3
PKGS = libssh libuv libfido2 yaml-0.1 libcrypto libsystemd sqlite3 libzstd libseccomp libarchive
WARN = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
       -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	-fPIC $(WARN) $(CFLAGS) $(SANFLAGS) -Icommon -Irecorder/lib \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpam -lpthread
LDFLAGS_ALL = $(SANFLAGS) -Wl,-z,relro,-z,now $(LDFLAGS)

COMMON_SRC = $(wildcard common/*.c)
COMMON_OBJ = $(COMMON_SRC:%.c=$(B)/%.o)
RECLIB_SRC = $(wildcard recorder/lib/*.c)
RECLIB_OBJ = $(RECLIB_SRC:%.c=$(B)/%.o)
BASTIOND_SRC = $(wildcard bastion/*.c)
BASTIOND_OBJ = $(BASTIOND_SRC:%.c=$(B)/%.o)
HOOKS_SRC = bastion/privsep.c bastion/sandbox.c
HOOKS_OBJ = $(HOOKS_SRC:%.c=$(B)/hooks/%.o) \
	$(filter-out $(HOOKS_SRC:%.c=$(B)/%.o),$(BASTIOND_OBJ))
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_SRC = $(wildcard tests/tools/*.c)
TOOL_BIN = $(TOOL_SRC:tests/tools/%.c=$(B)/tests/%)
SOFTSK_SRC = $(wildcard tests/softsk/*.c)

CTL_SRC = $(wildcard ctl/*.c)
CTL_OBJ = $(CTL_SRC:%.c=$(B)/%.o)
PAM_MOD_SRC = $(wildcard pam/*.c)
RECORDER_PROG_SRC = $(wildcard recorder/*.c)
RECORDER_PROGS = $(RECORDER_PROG_SRC:recorder/%.c=$(B)/%)

PROGS = $(B)/bastiond $(RECORDER_PROGS) $(if $(CTL_SRC),$(B)/bastionctl) \
	$(if $(PAM_MOD_SRC),$(B)/pam_bastion.so)
LIBS = $(if $(RECLIB_SRC),$(B)/librecorder.a) $(B)/libbastion-common.a

.PHONY: all deps check check-unit check-e2e check-asan check-boot demo \
	demo-stop bench \
	clean tests install uninstall

all: $(PROGS)

tests: all $(UNIT_BIN) $(TOOL_BIN) $(B)/tests/softsk.so $(B)/bastiond-testhooks

deps:
	@./scripts/deps.sh

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libbastion-common.a: $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/librecorder.a: $(RECLIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/bastiond: $(BASTIOND_OBJ) $(LIBS)
	$(CC) $(LDFLAGS_ALL) -o $@ $(BASTIOND_OBJ) $(LIBS) $(LDLIBS)

$(B)/hooks/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DBASTION_TEST_HOOKS -MMD -MP -c -o $@ $<

$(B)/bastiond-testhooks: $(HOOKS_OBJ) $(LIBS)
	$(CC) $(LDFLAGS_ALL) -o $@ $(HOOKS_OBJ) $(LIBS) $(LDLIBS)

$(B)/bastionctl: $(CTL_OBJ) $(LIBS)
	$(CC) $(LDFLAGS_ALL) -o $@ $(CTL_OBJ) $(LIBS) $(LDLIBS)

# The PAM module is loaded into other programs (sshd, login, bastiond):
# built without sanitizers, from its own sources plus the common library.
$(B)/pam_bastion.so: $(PAM_MOD_SRC) $(COMMON_SRC) $(wildcard pam/*.h common/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
		-fPIC -shared $(WARN) -O2 -g -Icommon \
		$(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
		-fvisibility=hidden -Wl,-z,relro,-z,now -o $@ $(PAM_MOD_SRC) \
		$(COMMON_SRC) $(LDLIBS)

$(B)/%: recorder/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_ALL) -o $@ $< $(LIBS) $(LDLIBS)

$(B)/tests/test_%: tests/unit/test_%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ipam -MMD -MP $(LDFLAGS_ALL) -o $@ $< $(LIBS) \
		$(LDLIBS) -lcmocka

$(B)/tests/%: tests/tools/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP $(LDFLAGS_ALL) -o $@ $< $(LIBS) $(LDLIBS)

# The software authenticator is loaded into the real ssh, ssh-keygen and
# ssh-agent (which are not sanitised), so it is always built without SAN.
$(B)/tests/softsk.so: $(SOFTSK_SRC) $(wildcard tests/softsk/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -fPIC -shared $(WARN) -O2 -g \
		-o $@ $(SOFTSK_SRC) -lcrypto

# make check also boots the installed units under systemd when run as root
# (CI); BOOT=0 leaves that out.
BOOT ?= 1
check: deps
	$(MAKE) tests
	$(MAKE) check-unit check-e2e
	@if [ "$(BOOT)" = 1 ] && [ "$$(id -u)" = 0 ]; then \
		$(MAKE) check-boot; \
	else \
		echo "check-boot skipped (needs root; BOOT=$(BOOT))"; \
	fi

check-unit: tests
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

check-e2e: tests
	BASTION_BUILD=$(abspath $(B)) BASTION_SAN=$(SAN) BASTION_STRICT=1 \
		$(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e $(PYTEST_ARGS)

# Slow (a debootstrap tree, cached in /var/tmp/bastion-boot) and needs
# root: run once by CI, not again under the sanitizers.
check-boot: deps
	$(MAKE) tests
	BASTION_BUILD=$(abspath $(B)) $(PYTHON) -m pytest -q -p no:cacheprovider \
		tests/boot $(PYTEST_ARGS)

check-asan: deps
	$(MAKE) SAN=1 tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(MAKE) SAN=1 check-unit check-e2e

demo: deps
	$(MAKE) tests
	./scripts/demo.sh start

demo-stop:
	./scripts/demo.sh stop

bench: deps
	$(MAKE) tests
	./bench/run.sh

# DESTDIR and PREFIX come through the environment (docs/INSTALL.md)
install: all
	B=$(B) ./scripts/install.sh

uninstall:
	B=$(B) ./scripts/install.sh --uninstall

clean:
	rm -rf build build-asan

-include $(wildcard $(B)/*/*.d $(B)/*/*/*.d $(B)/tests/*.d $(B)/hooks/*/*.d)
