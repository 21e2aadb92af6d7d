// Classifies the iris test rows on an Arduino Uno (ATmega328P) with a random forest that mcuport
// ported to integer-only C. Run `python3 ../make_model.py --out .` first: it writes model.h and
// rows.h into this folder. Prints "<row> <label>" per row at 9600 baud, then halts.
#include <avr/sleep.h>

#include "model.h"
#include "rows.h"

void setup() {
  Serial.begin(9600);
  for (uint8_t i = 0; i < ROWS_N; i++) {
    float x[IRIS_N_FEATURES];
    memcpy_P(x, rows[i], sizeof x);  // the rows live in flash

    int16_t codes[IRIS_N_FEATURES];
    Iris_quantize(x, codes);               // float -> the int16 codes the model reads
    const int32_t k = Iris_predict(codes);  // integer-only: no float on the predict path

    Serial.print(i);
    Serial.print(' ');
    // On the AVR the labels are in flash too: print them as flash strings.
    Serial.println(reinterpret_cast<const __FlashStringHelper *>(Iris_label(k)));
  }
  Serial.flush();  // let the last line leave the UART, then sleep for good
  noInterrupts();
  sleep_mode();
}

void loop() {
}
