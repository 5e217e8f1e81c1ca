/* Finding and calling the sandbox's script (tui/sandbox_ctl.h). */
#include "tui/sandbox_ctl.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef QRH_DATADIR
#define QRH_DATADIR "/usr/local/share/qrh"
#endif

static bool script_in(const char *root, char *out, size_t n)
{
	int len = snprintf(out, n, "%s/sandbox/sandbox.sh", root);
	return len > 0 && (size_t)len < n && access(out, R_OK) == 0;
}

int sandbox_script(char *out, size_t n)
{
	char exe[PATH_MAX], dir[PATH_MAX], up[PATH_MAX + 4], probe[PATH_MAX + 32];
	const char *src = getenv("QRH_SANDBOX_SRC");
	if (src && *src)
		return script_in(src, out, n) ? 0 : -1;
	if (!realpath("/proc/self/exe", exe))
		return script_in(QRH_DATADIR, out, n) ? 0 : -1;
	snprintf(dir, sizeof dir, "%s", dirname(exe));
	snprintf(up, sizeof up, "%s/..", dir);
	/* the marker writer is built beside a build directory's qrh */
	snprintf(probe, sizeof probe, "%s/tests/pg_writer", dir);
	if (access(probe, X_OK) == 0 && !getenv("QRH_BUILD"))
		setenv("QRH_BUILD", dir, 1);
	snprintf(probe, sizeof probe, "%s/build/tests/pg_writer", dir);
	if (access(probe, X_OK) == 0 && !getenv("QRH_BUILD")) {
		snprintf(probe, sizeof probe, "%s/build", dir);
		setenv("QRH_BUILD", probe, 1);
	}
	if (script_in(dir, out, n) || script_in(up, out, n) || script_in(QRH_DATADIR, out, n))
		return 0;
	return -1;
}

const char *sandbox_dir(void)
{
	const char *d = getenv("QRH_SANDBOX_DIR");
	return d && *d ? d : SANDBOX_DEFAULT_DIR;
}

int sandbox_call(const char *const *args, bool quiet)
{
	char script[PATH_MAX];
	if (sandbox_script(script, sizeof script) < 0)
		return -1;
	size_t n = 0;
	while (args[n])
		n++;
	char **argv = calloc(n + 3, sizeof *argv);
	if (!argv)
		return -1;
	static char bash[] = "bash";
	argv[0] = bash;
	argv[1] = script;
	for (size_t i = 0; i < n; i++)
		argv[i + 2] = (char *)(uintptr_t)args[i];
	char log[PATH_MAX];
	snprintf(log, sizeof log, "%s/drill.log", sandbox_dir());
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			dup2(fd, STDIN_FILENO);
		int out = quiet ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
				: dup(STDERR_FILENO);
		if (out >= 0) {
			dup2(out, STDOUT_FILENO);
			dup2(out, STDERR_FILENO);
		}
		execvp("bash", argv);
		_exit(127);
	}
	free(argv);
	if (pid < 0)
		return -1;
	int st;
	while (waitpid(pid, &st, 0) < 0)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool sandbox_exists(void)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/env", sandbox_dir());
	return access(path, R_OK) == 0;
}

bool sandbox_env(struct strv *out)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/env", sandbox_dir());
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char line[4096];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		char *eq = strchr(line, '=');
		if (eq && eq != line && line[0] != '#')
			strv_push(out, line);
	}
	fclose(f);
	return true;
}
