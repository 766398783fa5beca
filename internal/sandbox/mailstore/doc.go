// Package mailstore is the sandbox's mail: a Store of mailboxes, each
// with its messages, labels, threads and history under a lock of its own;
// the seeded accounts and their mail (in English, Japanese and legacy
// charsets); Gmail's search (the q parameter); the reading of a raw message
// that messages.insert stores; and the bounds on what a mailbox keeps.
//
// It serves no HTTP and imports no other package of the sandbox: the
// Gmail API (package gmailapi) reads and writes it, holding Mailbox.Mu as
// each method documents, and answers its errors as Google does.
package mailstore
