// SPDX-License-Identifier: MIT
/*
 * Looking at a program before running it: where a command resolves, which
 * CPython it is, whether its code keeps frame pointers.
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pyperf/record.h>
#include "binary.h"
#include "internal.h"
#include "untrusted.h"

int binary_resolve(const char *cmd, char *out, size_t size)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(cmd, '/')) {
		if (!realpath(cmd, out))
			return -errno;
		return access(out, X_OK) ? -errno : 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? path : ".", cmd);
		if (!access(buf, X_OK)) {
			struct stat st;

			if (!stat(buf, &st) && S_ISREG(st.st_mode) && realpath(buf, out) &&
			    strlen(out) < size)
				return 0;
		}
		path += n + (path[n] == ':');
	}
	return -ENOENT;
}

Elf *pyperf_elf_open(const char *path, int *fd)
{
	struct stat st;
	Elf *elf;

	*fd = pyperf_open_untrusted(path, PP_OPEN_FOLLOW | PP_OPEN_ANY_OWNER, &st, NULL);
	if (*fd < 0) {
		errno = -*fd;
		*fd = -1;
		return NULL;
	}
	elf_version(EV_CURRENT);
	errno = 0;
	elf = elf_begin(*fd, pyperf_file_mappable(&st) ? ELF_C_READ_MMAP : ELF_C_READ, NULL);
	if (!elf) {
		/* libelf's failed allocation reads as no ELF: errno tells */
		int err = errno == ENOMEM ? ENOMEM : EBADMSG;

		close(*fd);
		*fd = -1;
		errno = err;
	}
	return elf;
}

/* The DT_NEEDED entry containing @needle, resolved against RUNPATH/RPATH
 * ($ORIGIN expanded), LD_LIBRARY_PATH and the usual directories. */
static int needed_library(const char *path, const char *needle, char *out, size_t size)
{
	int fd, ret = -ENOENT;
	Elf *elf = pyperf_elf_open(path, &fd);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	char name[256] = "", runpath[PATH_MAX] = "", origin[PATH_MAX];

	if (!elf)
		return -errno;
	while (elf && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / (sh.sh_entsize ? sh.sh_entsize : 16);
		     i++) {
			GElf_Dyn dyn;
			const char *s;

			if (!gelf_getdyn(data, (int)i, &dyn))
				break;
			if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RUNPATH &&
			    dyn.d_tag != DT_RPATH)
				continue;
			s = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			if (!s)
				continue;
			if (dyn.d_tag == DT_NEEDED && strstr(s, needle) && !name[0])
				snprintf(name, sizeof(name), "%s", s);
			else if (dyn.d_tag != DT_NEEDED)
				snprintf(runpath, sizeof(runpath), "%s", s);
		}
	}
	elf_end(elf);
	close(fd);
	if (!name[0])
		return -ENOENT;
	snprintf(origin, sizeof(origin), "%s", path);
	if (strrchr(origin, '/'))
		*strrchr(origin, '/') = 0;
	{
		char dirs[PATH_MAX * 3];
		const char *ld = getenv("LD_LIBRARY_PATH");
		char *save, *d;

		snprintf(dirs, sizeof(dirs),
			 "%s:%s:/usr/local/lib:/usr/lib/x86_64-linux-gnu:"
			 "/lib/x86_64-linux-gnu:/usr/lib:/lib",
			 runpath, ld ? ld : "");
		for (d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			char cand[PATH_MAX];

			if (!strncmp(d, "$ORIGIN", 7))
				snprintf(cand, sizeof(cand), "%s%s/%s", origin, d + 7, name);
			else
				snprintf(cand, sizeof(cand), "%s/%s", d, name);
			if (!access(cand, R_OK) && realpath(cand, out) && strlen(out) < size) {
				ret = 0;
				break;
			}
		}
	}
	return ret;
}

int binary_code_object(const char *path, char *out, size_t size)
{
	if (needed_library(path, "libpython", out, size) == 0)
		return 1;
	snprintf(out, size, "%s", path);
	return 0;
}

/* "python3.12" or "libpython3.12.so.1.0" -> 312 */
static int version_from_name(const char *name)
{
	const char *p = strstr(name, "python");
	int major, minor;

	if (!p || sscanf(p, "python%d.%d", &major, &minor) != 2 || major < 2 || minor < 0)
		return 0;
	return major * 100 + minor;
}

PYPERF_API int pyperf_python_version(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char lib[PATH_MAX];
	int v, pipefd[2], status;
	pid_t pid;
	char buf[64] = "";
	ssize_t n;

	if ((v = version_from_name(base)))
		return v;
	if (needed_library(path, "libpython", lib, sizeof(lib)) == 0 &&
	    (v = version_from_name(strrchr(lib, '/') ? strrchr(lib, '/') + 1 : lib)))
		return v;
	/* "python3" statically linked: only the interpreter knows. Ask it,
	 * but only if the name says it is one. */
	if (strncmp(base, "python", 6))
		return 0;
	if (pipe2(pipefd, O_CLOEXEC))
		return 0;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return 0;
	}
	if (pid == 0) {
		dup2(pipefd[1], 1);
		execl(path, path, "-I", "-S", "-c",
		      "import sys; print(sys.implementation.name, *sys.version_info[:2])",
		      (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	n = read(pipefd[0], buf, sizeof(buf) - 1);
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (n > 0) {
		int major, minor;
		char impl[16];

		buf[n] = 0;
		if (sscanf(buf, "%15s %d %d", impl, &major, &minor) == 3 &&
		    !strcmp(impl, "cpython"))
			return major * 100 + minor;
	}
	return 0;
}

/*
 * Frame pointers: a function that keeps them starts (after an optional
 * endbr64) with push %rbp; mov %rsp,%rbp. Sampled over the file's sized
 * functions; a build without -fno-omit-frame-pointer shows this prologue
 * in only a small minority of them.
 */
PYPERF_API int pyperf_binary_has_frame_pointers(const char *path)
{
	int fd;
	Elf *elf = pyperf_elf_open(path, &fd);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Ehdr eh;
	size_t total = 0, with_fp = 0, phnum;
	int ret = -EBADMSG;

	if (!elf)
		return pyperf_err(-errno);
	if (!elf || !gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64 ||
	    elf_getphdrnum(elf, &phnum))
		goto out;
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		/* prefer .symtab; .dynsym when stripped */
		if (sh.sh_type == SHT_DYNSYM && total)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0;
		     data && i < sh.sh_size / (sh.sh_entsize ? sh.sh_entsize : 24) && total < 4000;
		     i++) {
			GElf_Sym s;
			uint8_t code[12];

			if (!gelf_getsym(data, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
			    s.st_size < 16 || s.st_shndx == SHN_UNDEF)
				continue;
			/* file offset of the function via its segment */
			for (size_t p = 0; p < phnum; p++) {
				GElf_Phdr ph;

				if (!gelf_getphdr(elf, (int)p, &ph) || ph.p_type != PT_LOAD ||
				    s.st_value < ph.p_vaddr ||
				    s.st_value >= ph.p_vaddr + ph.p_filesz)
					continue;
				if (pread(fd, code, sizeof(code),
					  (off_t)(s.st_value - ph.p_vaddr + ph.p_offset)) ==
				    sizeof(code)) {
					const uint8_t *c = code;

					if (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e &&
					    c[3] == 0xfa)
						c += 4;
					total++;
					if (c[0] == 0x55 && c[1] == 0x48 && c[2] == 0x89 &&
					    c[3] == 0xe5)
						with_fp++;
				}
				break;
			}
		}
	}
	if (total < 8)
		ret = -ENODATA;
	else
		ret = with_fp * 2 > total ? 1 : 0;
out:
	elf_end(elf);
	close(fd);
	return pyperf_err(ret);
}
