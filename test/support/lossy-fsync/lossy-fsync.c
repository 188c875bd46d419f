/*
 * LD_PRELOAD shim for the store durability test: a model of a disk whose page cache is lost at a crash.
 *
 * The process works on real files in LOSSY_SRC_DIR (so its reads see its writes, as with a page cache). Each
 * fsync/fdatasync of a regular file in that directory copies the whole file, as it is at that moment, to
 * LOSSY_DURABLE_DIR (same name), by write-to-temporary and rename, so the copy is all-or-nothing even if the
 * process is killed mid-copy. After a SIGKILL, LOSSY_DURABLE_DIR is what a machine that lost power would find:
 * every file exactly as of its last sync, and nothing that was written without one (the worst case a real
 * kernel allows; it may flush earlier, never promises to).
 *
 * Directory entries are treated as durable at once: a file's first sync makes its name durable, and unlink of a
 * file in LOSSY_SRC_DIR removes its durable copy too (else the rollback journal SQLite deletes after switching
 * to WAL would come back as a hot journal; SQLite covers a lost unlink only with synchronous=EXTRA). Renames in
 * LOSSY_SRC_DIR are not modelled; SQLite does not rename.
 *
 * Built by the test harness (gcc -shared -fPIC ... -ldl) into a temporary directory.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_unlink)(const char *);

static void resolve(void) {
  if (!real_fsync) real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  if (!real_fdatasync) real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  if (!real_unlink) real_unlink = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
}

/* The name of `path` inside LOSSY_SRC_DIR (directly in it), or NULL. */
static const char *tracked_name(const char *path) {
  const char *src = getenv("LOSSY_SRC_DIR");
  if (!src || !getenv("LOSSY_DURABLE_DIR")) return NULL;
  size_t len = strlen(src);
  if (strncmp(path, src, len) != 0 || path[len] != '/' || strchr(path + len + 1, '/') != NULL) return NULL;
  return path + len + 1;
}

/* Copies fd's file to the durable directory if it lives in the source directory. Returns 0 or -1 (errno set). */
static int persist(int fd) {
  const char *dst = getenv("LOSSY_DURABLE_DIR");
  if (!dst) return 0;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n < 0) return 0;
  path[n] = '\0';
  const char *name = tracked_name(path);
  if (!name) return 0;

  char tmp[PATH_MAX], out[PATH_MAX];
  snprintf(out, sizeof out, "%s/%s", dst, name);
  snprintf(tmp, sizeof tmp, "%s/.%s.lossy-tmp", dst, name);
  int o = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (o < 0) return -1;
  char buf[1 << 16];
  off_t off = 0;
  for (;;) {
    ssize_t r = pread(fd, buf, sizeof buf, off);
    if (r < 0) {
      if (errno == EINTR) continue;
      close(o);
      return -1;
    }
    if (r == 0) break;
    for (ssize_t w = 0; w < r;) {
      ssize_t k = write(o, buf + w, (size_t)(r - w));
      if (k < 0) {
        if (errno == EINTR) continue;
        close(o);
        return -1;
      }
      w += k;
    }
    off += r;
  }
  close(o);
  return rename(tmp, out);
}

int fsync(int fd) {
  resolve();
  if (persist(fd) != 0) return -1;
  return real_fsync(fd);
}

int fdatasync(int fd) {
  resolve();
  if (persist(fd) != 0) return -1;
  return real_fdatasync(fd);
}

int unlink(const char *path) {
  resolve();
  int r = real_unlink(path);
  const char *name = r == 0 ? tracked_name(path) : NULL;
  if (name) {
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/%s", getenv("LOSSY_DURABLE_DIR"), name);
    int saved = errno;
    real_unlink(out);
    errno = saved;
  }
  return r;
}
