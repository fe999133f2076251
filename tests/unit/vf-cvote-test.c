#include "vf_check.h"
int main(void) { return vf_check_done(__FILE__); }
