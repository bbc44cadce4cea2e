// SPDX-License-Identifier: GPL-2.0
/* pcshare(8): subcommand dispatch. */
#define _GNU_SOURCE
#include <string.h>

#include "pcshare.h"

static const char usage_text[] =
"Usage: pcshare COMMAND [OPTION]... [ARG]...\n"
"Make identical files share their blocks on disk (FIDEDUPERANGE) and, with the\n"
"pcshare kernel module loaded, one page cache in RAM.\n"
"\n"
"Commands:\n"
"  dedupe PATH...   find identical files under PATH and dedupe them\n"
"  status           is the module loaded; its groups, files, bytes saved\n"
"  stat FILE...     is each FILE shared, and with which files\n"
"\n"
"Examples:\n"
"  pcshare dedupe --dry-run /srv/images     show what would be deduped\n"
"  pcshare dedupe /srv/images               dedupe it\n"
"  pcshare dedupe --json /srv/images | jq .bytes_deduped\n"
"  pcshare status\n"
"  pcshare stat /srv/images/a.img\n"
"\n"
"Run 'pcshare COMMAND --help' for the options of each command; see pcshare(8).\n"
"\n"
"Exit status: 0 done, 1 done but some files failed, 2 bad usage.\n";

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "dedupe", cmd_dedupe },
		{ "status", cmd_status },
		{ "stat", cmd_stat },
	};
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return EXIT_DONE;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		puts("pcshare " PCSHARE_VERSION);
		return EXIT_DONE;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmd, cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	msg("unknown command '%s'", cmd);
	fputs("Try 'pcshare --help'.\n", stderr);
	return EXIT_USAGE;
}
