/* LeakSanitizer: Criterion's runner itself leaks a small event object now
 * and then when tests finish in parallel; that is not ours to report. */
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
    return "leak:libcriterion.so\n";
}
