/*
 * nosync.c - EXPERIMENT ONLY, never part of the product: how much of the
 * recorder's cost is waiting for fdatasync()?
 *
 *   BENCH_BASTION_PRELOAD=bench/shims/nosync.c make bench
 *
 * bench.py compiles this and starts bastiond with LD_PRELOAD; the
 * bastion-recorder it spawns inherits it, so the fdatasync() after every
 * checkpoint (each second or each MiB of payload, docs/RECORDING-FORMAT.md
 * section 5) returns at once. Recordings then lose their crash guarantee:
 * this only measures what syncing costs. (Since the recorder runs its
 * syncs on libuv's thread pool, what is left is their CPU time and the
 * write-back they force; before, each one also stopped the recorder's
 * loop, and so every session's relay, for about a millisecond.)
 */
#include <unistd.h>

int
fdatasync(int fd)
{
	(void)fd;
	return (0);
}
