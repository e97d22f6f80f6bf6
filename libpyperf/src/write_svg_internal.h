// SPDX-License-Identifier: MIT
/* The SVG flame graph's parts (write_svg*.c): its state and their calls. */
#ifndef PYPERF_WRITE_SVG_INTERNAL_H
#define PYPERF_WRITE_SVG_INTERNAL_H

#include "writer.h"

#define FRAME_H 16			/* pixels per level */
#define FONT_SIZE 12			/* pixels */
#define FONT_W 0.59			/* average glyph width, in font sizes (Verdana) */
#define PAD_X 10			/* left and right margins */
#define PAD_TOP (FONT_SIZE * 4)		/* title, subtitle and buttons */
#define TL_ROW_H 12			/* a thread's strip in the timeline */
#define TL_ROWS 8			/* strips at most (the rest in the last) */
#define TL_BUCKETS 200			/* columns of the timeline */
#define PAD_BOTTOM (FONT_SIZE * 2 + 10) /* the details line */
#define LEGEND_W 240			/* pixels */
#define STR_(x) #x
#define STR(x) STR_(x)
#define FONT_W_STR STR(FONT_W)
#define FONT_SIZE_STR STR(FONT_SIZE)

struct fnode {
	uint32_t parent, first_child, next_sibling;
	const char *name; /* interned: equal names are equal pointers */
	uint8_t kind;	  /* enum pyperf_frame_kind of the first frame merged */
	uint64_t self, total;
	uint64_t bself, btotal; /* the same in the baseline (differential graphs) */
	/* the width it takes, in units of weight: its total, and in a
	 * differential graph also the frames below it that only the baseline
	 * has, as wide as they were there (scaled to the new total) */
	double lay;
};

struct fslot {
	uint64_t key;
	uint32_t id; /* 0: empty (node 0 is the root, never a child) */
};

struct svg {
	struct pyperf_profile *p;
	struct pyperf_svg_opts o;
	struct pp_labels labels;
	struct pp_strtab names;
	struct fnode *nodes;
	size_t nr_nodes, cap_nodes;
	struct fslot *slots;
	size_t slots_cap;
	uint32_t *stack;
	size_t stack_cap;
	FILE *out;
	uint64_t total;
	double scale; /* pixels per unit of weight */
	unsigned max_depth;
	const char *unit;
	uint64_t btotal;  /* the baseline's total (differential graphs) */
	double max_delta; /* the largest |change| of a frame's self share */
	/* the timeline (opts.timeline): profile node -> flame node, flame
	 * node -> its index among the drawn frames + 1 */
	uint32_t *flame_of, *drawn;
	size_t nr_drawn;
	unsigned tl_rows, tl_top; /* strips drawn; pixels the timeline takes */
};

/* write_svg_tree.c */
int pyperf_svg_merge_profile(struct svg *g, struct pyperf_profile *p, struct pp_labels *labels,
			     bool base);
int pyperf_svg_finish(struct svg *g);
void pyperf_svg_layout(struct svg *g);

/* write_svg_frames.c */
void pyperf_svg_xml_escape(struct pp_out *o, const char *s, size_t n);
size_t pyperf_svg_utf8_chars(const char *s);
size_t pyperf_svg_utf8_prefix(const char *s, size_t chars);
int pyperf_svg_draw(struct svg *g, struct pp_out *o, unsigned height);
int pyperf_svg_max_depth(struct svg *g, unsigned *deepest);

/* write_svg_colour.c */
double pyperf_svg_self_delta(const struct svg *g, const struct fnode *n);
void pyperf_svg_diff_colour(const struct svg *g, const struct fnode *n, char *buf, size_t size);
void pyperf_svg_colour(const struct fnode *n, char *buf, size_t size);
const char *pyperf_svg_kind_class(uint8_t kind);
double pyperf_svg_legend_width(const struct svg *g);
void pyperf_svg_legend(struct svg *g, double x, double y);

/* write_svg_timeline.c */
int pyperf_svg_timeline(struct svg *g, struct pp_out *o);

/* write_svg_script.c: the page's script */
extern const char pyperf_svg_script[];

#endif
