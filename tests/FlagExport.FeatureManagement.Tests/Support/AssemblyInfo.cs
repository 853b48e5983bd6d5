// An ActivityListener hears every FeatureManager of the process: tests that ran at once would see each other's
// evaluations in their exports.
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]
