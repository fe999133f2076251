/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_list.h - an intrusive circular doubly linked list, for objects that
 * sit on several lists at once and must leave any of them in O(1).
 *
 * An unlinked node points to itself, so vf_list_del() of a node that is on
 * no list is harmless and vf_list_linked() tells whether it is on one.
 */
#ifndef VF_LIST_H
#define VF_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct vf_list {
	struct vf_list *prev, *next;
};

/* The object that embeds @node as its @member. */
#define vf_list_entry(node, type, member) \
	((type *)((char *)(node) - offsetof(type, member)))

static inline void vf_list_init(struct vf_list *l)
{
	l->prev = l->next = l;
}

static inline bool vf_list_empty(const struct vf_list *head)
{
	return head->next == head;
}

/* Whether @node is on a list (for a head: whether the list is nonempty). */
static inline bool vf_list_linked(const struct vf_list *node)
{
	return node->next != node;
}

static inline void vf_list_del(struct vf_list *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	vf_list_init(node);
}

/* Append @node (on no list, or moved from its list) at the end of @head. */
static inline void vf_list_move_tail(struct vf_list *node,
				     struct vf_list *head)
{
	vf_list_del(node);
	node->prev = head->prev;
	node->next = head;
	head->prev->next = node;
	head->prev = node;
}

#endif /* VF_LIST_H */
