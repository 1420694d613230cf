// Zero (any resolution): clears two targets where it is drawn.
layout(location = 0) out vec4 zero0;
layout(location = 1) out vec4 zero1;

void main() {
    zero0 = vec4(0.0);
    zero1 = vec4(0.0);
}
