// The Capture tests name xunit types directly; a global using here keeps them building whether or not the
// project adds its own (a duplicate global using is allowed, a duplicate local one is not).
global using Xunit;
