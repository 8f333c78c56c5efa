/*
 * mailaddr.h - the one check of a mail address the bastion writes into a
 * mail header (approval.notify's mail.to and mail.from, checked by the
 * policy loader and again by bastion-notify before it builds a message).
 *
 * Deliberately narrower than RFC 5322's addr-spec: a plain local@domain of
 * printable ASCII, no blanks, quotes, commas, angle brackets, parentheses
 * or backslashes, so that an address can never carry a display name, a
 * second recipient, a comment or a line break into a header.
 */
#ifndef BASTION_MAILADDR_H
#define BASTION_MAILADDR_H

#define MAILADDR_MAX	254	/* RFC 5321's path limit, less the <> */

/* 1 if s is such an address (exactly one '@', text on both sides, at
 * most MAILADDR_MAX bytes), 0 if not (NULL included). */
int mailaddr_ok(const char *s);

#endif
