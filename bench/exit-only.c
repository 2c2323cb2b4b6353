/*
 * exit-only: a program that makes the exit system call and nothing else.
 * With no C library there is nothing to start up, where /bin/true spends
 * most of its CPU (0.7 ms on the benchmark machine) after its exec. launch
 * spawns it beside /bin/true: the difference is how much of a launch's
 * latency is the launched program's own start-up, sharing the CPUs with
 * the answer on its way back.
 */
void _start(void) __attribute__((noreturn));

void
_start(void)
{
#if defined(__x86_64__)
	__asm__ volatile("mov $60, %eax\n\txor %edi, %edi\n\tsyscall");
#elif defined(__aarch64__)
	__asm__ volatile("mov x8, #93\n\tmov x0, #0\n\tsvc #0");
#else
#error "exit-only: no exit system call written for this architecture"
#endif
	for (;;)
		;
}
