using Xunit;

// Leak accounting reads process-wide counts (/proc/self/fd, mappings): one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
