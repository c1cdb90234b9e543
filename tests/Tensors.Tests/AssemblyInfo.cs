// Tensor tests count live tensors process-wide and the kernels use both cores: run them one at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
