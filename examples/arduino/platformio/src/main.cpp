// The iris forest through micromlgen's interface: a sketch written for micromlgen, unchanged
// but for the header, which mcuport.micromlgen.port wrote (make_model.py).
#include <Arduino.h>
#include <avr/sleep.h>

#include "model.h"
#include "rows.h"

Eloquent::ML::Port::Iris classifier;

void setup() {
  Serial.begin(9600);
  for (uint8_t i = 0; i < ROWS_N; i++) {
    float x[IRIS_N_FEATURES];
    memcpy_P(x, rows[i], sizeof x);
    Serial.print(i);
    Serial.print(' ');
    Serial.println(classifier.predictLabel(x));  // a copy in RAM of the label in flash
  }
  Serial.flush();
  noInterrupts();
  sleep_mode();
}

void loop() {
}
