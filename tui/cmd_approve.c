#include "tui/cli.h"
int cmd_approve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return QRH_EXIT_USAGE;
}
