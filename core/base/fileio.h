/* fileio.h - whole-file reads, atomic writes, CRC32.
 *
 * Every output a user keeps (models, CSVs, reports) is written to a temporary file in the
 * same directory, flushed to disk, and renamed over the target, so a crash or a kill at any
 * point leaves either the old file or the new one, never half of one.
 */
#ifndef CL_FILEIO_H
#define CL_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Opens path for reading, refusing (with a message naming it and what it is) anything but a
 * regular file, without blocking on a FIFO; *size (may be NULL) gets the file's size. The
 * FILE is the caller's to fclose. */
int cl_fileio_open_read(const char *path, FILE **fp, uint64_t *size);

/* Reads a whole file into a cl_alloc'ed buffer (owned by the caller, freed with cl_alloc_free), NUL
 * terminated for convenience (the NUL is not counted in *len). Refuses files over max_bytes. */
int cl_fileio_read(const char *path, size_t max_bytes, char **out, size_t *len);

/* Creates the folder dir and its missing parents, like mkdir -p (CL_EIO naming the folder
 * when one cannot be made or a part exists and is not a folder). */
int cl_fileio_mkdirs(const char *dir);

/* Writes len bytes atomically (temp + fsync + rename). Like every atomic write, creates the
 * target's missing folders first: saving "models/m.clm" in a fresh checkout just works. */
int cl_fileio_write_atomic(const char *path, const void *data, size_t len);

/* Streaming atomic write: open, write to a->fp, then commit (rename into place) or abort
 * (remove the temp file). Exactly one of commit/abort must follow a successful open. */
typedef struct cl_atomic_file {
    FILE *fp;
    char *path;
    char *tmp;
} cl_atomic_file;

int cl_fileio_atomic_open(cl_atomic_file *a, const char *path);
int cl_fileio_atomic_commit(cl_atomic_file *a);
void cl_fileio_atomic_abort(cl_atomic_file *a);

/* CRC-32 (IEEE 802.3, as zlib's crc32); pass crc = 0 to start. */
uint32_t cl_fileio_crc32(uint32_t crc, const void *data, size_t len);

#endif
