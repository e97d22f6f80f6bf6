// SPDX-License-Identifier: MIT
/*
 * jitdump files (/tmp/jit-PID.dump, tools/perf/Documentation/
 * jitdump-specification.txt): JIT_CODE_LOAD records name code regions,
 * JIT_CODE_UNWINDING_INFO records before them carry .eh_frame data for
 * that code. CPython 3.13's -X perf_jit writes both.
 *
 * The .eh_frame pieces are copied into one section of a small ELF image
 * built in memory, each FDE's start rewritten to the address its code was
 * loaded at, so that libdw reads the CFI like any object's. No perf
 * inject step is needed.
 */
#include <elf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "jitdump.h"
#include "symtab.h"
#include "untrusted.h"

#define JITDUMP_MAGIC 0x4A695444u
#define JIT_CODE_LOAD 0
#define JIT_CODE_MOVE 1
#define JIT_CODE_UNWINDING_INFO 4
#define DW_EH_PE_pcrel_sdata4 0x1b

struct jitdump {
	struct symtab tab;
	uint8_t *image; /* the in-memory ELF */
	Elf *elf;
	Dwarf_CFI *cfi;
	size_t bad_records;
};

/* Reads a ULEB128; returns bytes used, 0 on overrun. */
static size_t uleb(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	size_t n = 0;
	unsigned shift = 0;

	*v = 0;
	while (p + n < end && shift < 64) {
		*v |= (uint64_t)(p[n] & 0x7f) << shift;
		shift += 7;
		if (!(p[n++] & 0x80))
			return n;
	}
	return 0;
}

/*
 * The FDE pointer encoding of the CIE at @cie ('R' augmentation), or -1.
 * Only what the FDE rewrite below handles is accepted.
 */
static int cie_fde_encoding(const uint8_t *cie, const uint8_t *end)
{
	uint32_t len = load_u32(cie);
	const uint8_t *p = cie + 8, *lim = cie + 4 + len, *aug;
	uint64_t v;
	size_t n;

	if (lim > end || len < 8 || load_u32(cie + 4) != 0)
		return -1;
	p++; /* version */
	aug = p;
	while (p < lim && *p)
		p++;
	if (p >= lim)
		return -1;
	p++;
	if (!(n = uleb(p, lim, &v))) /* code alignment */
		return -1;
	p += n;
	if (!(n = uleb(p, lim, &v))) /* data alignment (sleb, skipped alike) */
		return -1;
	p += n;
	if (!(n = uleb(p, lim, &v))) /* return address register */
		return -1;
	p += n;
	if (aug[0] != 'z')
		return 0; /* no augmentation data: absolute pointers */
	if (!(n = uleb(p, lim, &v)))
		return -1;
	p += n;
	for (const char *a = (const char *)aug + 1; *a && p < lim; a++) {
		if (*a == 'R')
			return *p;
		if (*a == 'P')
			return -1; /* personality routines: not JIT trampolines */
		if (*a == 'L')
			p++;
	}
	return -1;
}

/*
 * Appends the CIE+FDE pair of @eh (one function's .eh_frame) to @sec,
 * which will sit at address @base, with the FDE's start set to @code.
 */
static int append_eh(uint8_t **sec, size_t *len, size_t *cap, uint64_t base, const uint8_t *eh,
		     size_t eh_len, uint64_t code)
{
	const uint8_t *end = eh + eh_len, *p = eh, *cie = NULL;
	size_t at = *len;
	int enc = -1;

	if (!eh_len)
		return 0; /* an empty record: nothing to copy (and *sec may be NULL) */
	if (PP_GROW(*sec, *cap, *len + eh_len))
		return -ENOMEM;
	memcpy(*sec + at, eh, eh_len);
	while (end - p >= 8) {
		uint32_t rlen = load_u32(p), id;

		if (!rlen)
			break;
		if (rlen > (uint64_t)(end - p - 4))
			return -EBADMSG;
		/* Every record holds its id; an FDE also the 4-byte start
		 * rewritten below, which must lie inside the record (and so
		 * inside the section: one that ends the section exactly would
		 * otherwise be written past). */
		id = load_u32(p + 4);
		if (id != 0 && rlen < 8)
			return -EBADMSG;
		if (id == 0) {
			cie = p;
			enc = cie_fde_encoding(p, end);
		} else {
			uint8_t *field = *sec + at + (p - eh) + 8;
			uint64_t field_addr = base + at + (size_t)(p - eh) + 8;
			int64_t rel = (int64_t)(code - field_addr);
			int32_t v;

			if (!cie || enc != DW_EH_PE_pcrel_sdata4 || rel != (int32_t)rel)
				return -EOPNOTSUPP;
			v = (int32_t)rel;
			memcpy(field, &v, 4);
		}
		p += 4 + rlen;
	}
	*len = at + eh_len;
	return 0;
}

/* A minimal ELF: a null section, .eh_frame at @base, .shstrtab. */
static uint8_t *build_image(const uint8_t *sec, size_t len, uint64_t base, size_t *size)
{
	static const char names[] = "\0.eh_frame\0.shstrtab";
	size_t data_off = sizeof(Elf64_Ehdr), str_off = ALIGN_UP(data_off + len, 8);
	size_t sh_off = ALIGN_UP(str_off + sizeof(names), 8);
	uint8_t *img = pp_calloc(1, sh_off + 3 * sizeof(Elf64_Shdr));
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Shdr *sh;

	if (!img)
		return NULL;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_shoff = sh_off;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = 3;
	eh->e_shstrndx = 2;
	memcpy(img + data_off, sec, len);
	memcpy(img + str_off, names, sizeof(names));
	sh = (Elf64_Shdr *)(img + sh_off);
	sh[1].sh_name = 1;
	sh[1].sh_type = SHT_PROGBITS;
	sh[1].sh_flags = SHF_ALLOC;
	sh[1].sh_addr = base;
	sh[1].sh_offset = data_off;
	sh[1].sh_size = len;
	sh[1].sh_addralign = 8;
	sh[2].sh_name = 11;
	sh[2].sh_type = SHT_STRTAB;
	sh[2].sh_offset = str_off;
	sh[2].sh_size = sizeof(names);
	*size = sh_off + 3 * sizeof(Elf64_Shdr);
	return img;
}

/*
 * The latest code loaded at each start address, for JIT_CODE_MOVE: a
 * hash index over the table's entries (index + 1 in the slot), so that a
 * dump of many moves costs one probe each, not a scan of every load.
 */
struct starts {
	struct pp_hslot *slots;
	size_t cap, used;
};

static uint32_t *starts_slot(struct starts *h, const struct symtab *tab, uint64_t start)
{
	uint64_t hv = hash_u64(start);
	size_t j;

	for (j = pp_probe_start(hv, h->cap); h->slots[j].idx; j = pp_probe_next(j, h->cap))
		if (h->slots[j].hash == hv && tab->syms[h->slots[j].idx - 1].start == start)
			break;
	h->slots[j].hash = hv;
	return &h->slots[j].idx;
}

static int starts_set(struct starts *h, const struct symtab *tab, uint64_t start, size_t idx)
{
	uint32_t *slot;

	if ((h->used + 1) * 2 > h->cap && pp_hslots_grow(&h->slots, &h->cap, 64))
		return -ENOMEM;
	slot = starts_slot(h, tab, start);
	if (!*slot)
		h->used++;
	*slot = (uint32_t)idx + 1;
	return 0;
}

static const struct pyperf_symbol *starts_get(struct starts *h, const struct symtab *tab,
					      uint64_t start)
{
	uint64_t hv = hash_u64(start);

	if (!h->cap)
		return NULL;
	for (size_t j = pp_probe_start(hv, h->cap); h->slots[j].idx; j = pp_probe_next(j, h->cap))
		if (h->slots[j].hash == hv && tab->syms[h->slots[j].idx - 1].start == start)
			return &tab->syms[h->slots[j].idx - 1];
	return NULL;
}

/* Adds a code region and remembers it as the latest at its start. */
static int add_code(struct jitdump *j, struct starts *h, uint64_t vma, uint64_t size,
		    const char *name, size_t len)
{
	if (vma + size < vma)
		return -EBADMSG;
	if (symtab_add(&j->tab, vma, vma + size, name, len))
		return -ENOMEM;
	return starts_set(h, &j->tab, vma, j->tab.nr - 1);
}

struct jitdump *jitdump_parse(const void *buf, size_t size)
{
	const uint8_t *d = buf, *p, *end = d + size;
	const uint8_t *pending = NULL;
	size_t pending_len = 0, sec_len = 0, sec_cap = 0, img_size;
	uint8_t *sec = NULL;
	uint64_t base = 0;
	struct starts starts = {0};
	struct jitdump *j;
	int ret;

	if (size < 40 || load_u32(d) != JITDUMP_MAGIC || load_u32(d + 8) > size) {
		errno = EBADMSG;
		return NULL;
	}
	j = pp_calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	symtab_init(&j->tab);
	for (p = d + load_u32(d + 8); end - p >= 16;) {
		uint32_t id = load_u32(p), len = load_u32(p + 4);

		if (len < 16 || len > (uint64_t)(end - p))
			break; /* a record still being written, or damage */
		if (id == JIT_CODE_UNWINDING_INFO && len >= 40) {
			uint64_t data_size = load_u64(p + 16), hdr_size = load_u64(p + 24);

			if (data_size <= len - 40 && hdr_size <= data_size) {
				pending = p + 40 + hdr_size;
				pending_len = data_size - hdr_size;
			} else {
				j->bad_records++;
			}
		} else if (id == JIT_CODE_LOAD && len >= 56) {
			uint64_t vma = load_u64(p + 24), code_size = load_u64(p + 40);
			const char *name = (const char *)p + 56;
			size_t max = len - 56;

			if (!memchr(name, 0, max) || code_size > max - strlen(name) - 1) {
				j->bad_records++;
			} else {
				ret = add_code(j, &starts, vma, code_size, name, strlen(name));
				if (ret == -ENOMEM)
					goto nomem;
				if (ret)
					j->bad_records++;
				if (!ret && pending) {
					if (!sec_len)
						base = vma; /* pc-relative fields must reach the
							       code */
					ret = append_eh(&sec, &sec_len, &sec_cap, base, pending,
							pending_len, vma);
					if (ret == -ENOMEM)
						goto nomem;
					if (ret)
						j->bad_records++;
				}
			}
			pending = NULL;
		} else if (id == JIT_CODE_MOVE && len >= 56) {
			/* code moved: a new region under the old name */
			uint64_t vma = load_u64(p + 24), old = load_u64(p + 32),
				 code_size = load_u64(p + 48);
			const struct pyperf_symbol *from = starts_get(&starts, &j->tab, old);

			if (from) {
				/* the name lives in the table's arena: it stays put
				 * while the table grows */
				ret = add_code(j, &starts, vma, code_size, from->name,
					       strlen(from->name));
				if (ret == -ENOMEM)
					goto nomem;
				if (ret)
					j->bad_records++;
			}
		}
		p += len;
	}
	free(starts.slots);
	starts.slots = NULL;
	if (symtab_finish(&j->tab, SYMTAB_LAST_WINS))
		goto nomem;
	if (sec_len) {
		j->image = build_image(sec, sec_len, base, &img_size);
		if (!j->image)
			goto nomem;
		elf_version(EV_CURRENT);
		j->elf = elf_memory((char *)j->image, img_size);
		if (!j->elf)
			goto nomem; /* the image is ours and well formed: only memory fails */
		j->cfi = dwarf_getcfi_elf(j->elf);
	}
	free(sec);
	return j;
nomem:
	free(starts.slots);
	free(sec);
	jitdump_free(j);
	errno = ENOMEM;
	return NULL;
}

size_t jitdump_bad_records(const struct jitdump *j)
{
	return j->bad_records;
}

struct jitdump *jitdump_load(const char *path, bool force, struct stat *st,
			     struct pyperf_error *err)
{
	struct jitdump *j;
	char *buf;
	size_t len;
	int ret;

	ret = pyperf_read_untrusted(path, force ? PP_OPEN_ANY_OWNER | PP_OPEN_FOLLOW : 0,
				    PP_MAX_JIT_FILE, &buf, &len, st, err);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	j = jitdump_parse(buf, len);
	if (!j)
		pyperf_error_set(err, -errno, PYPERF_NO_OFFSET, path,
				 errno == ENOMEM ? "out of memory" : "not a jitdump");
	free(buf);
	return j;
}

void jitdump_free(struct jitdump *j)
{
	if (!j)
		return;
	if (j->cfi)
		dwarf_cfi_end(j->cfi);
	if (j->elf)
		elf_end(j->elf);
	free(j->image);
	symtab_free(&j->tab);
	free(j);
}

struct symtab *jitdump_symtab(struct jitdump *j)
{
	return &j->tab;
}

Dwarf_CFI *jitdump_cfi(struct jitdump *j)
{
	return j->cfi;
}
