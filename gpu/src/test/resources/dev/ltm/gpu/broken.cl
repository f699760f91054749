// Deliberately fails to compile: OpenClRuntimeTest checks the build log reaches the exception.
__kernel void broken(__global float* x) {
    x[0] = undeclared_identifier;
}
