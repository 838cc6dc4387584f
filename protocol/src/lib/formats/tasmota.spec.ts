import { decodeTasmota } from './index';

// Tasmota 13 SENSOR and STATE payloads as published, with the units its documentation gives
// each field (https://tasmota.github.io/docs/JSON-Status-Responses/).

describe('tasmota (SENSOR and STATE with units)', () => {
  it('gives temperatures the unit TempUnit names, and the energy meter its units, per channel', () => {
    const payload =
      '{"Time":"2024-03-10T14:22:05","AM2301":{"Temperature":70.5,"Humidity":46.3,"DewPoint":48.9},"BMP280":{"Temperature":71.1,"Pressure":29.9,"SeaPressure":30.1},"ENERGY":{"TotalStartTime":"2023-11-02T10:12:41","Total":[12.3,4.5],"Yesterday":0.5,"Today":0.2,"Period":[0,1],"Power":[10,20],"ApparentPower":[11,22],"ReactivePower":[1,2],"Factor":[0.91,0.9],"Frequency":50,"Voltage":231,"Current":[0.05,0.09]},"TempUnit":"F","PressureUnit":"inHg"}';
    const result = decodeTasmota(payload);
    expect(result.readings[0].values).toMatchObject({
      'AM2301.Temperature': 70.5,
      'ENERGY.Power.2': 20,
    });
    expect(result.units).toEqual({
      'AM2301.Temperature': '°F',
      'AM2301.Humidity': '%',
      'AM2301.DewPoint': '°F',
      'BMP280.Temperature': '°F',
      'BMP280.Pressure': 'inHg',
      'BMP280.SeaPressure': 'inHg',
      'ENERGY.Total.1': 'kWh',
      'ENERGY.Total.2': 'kWh',
      'ENERGY.Yesterday': 'kWh',
      'ENERGY.Today': 'kWh',
      'ENERGY.Period.1': 'Wh',
      'ENERGY.Period.2': 'Wh',
      'ENERGY.Power.1': 'W',
      'ENERGY.Power.2': 'W',
      'ENERGY.ApparentPower.1': 'VA',
      'ENERGY.ApparentPower.2': 'VA',
      'ENERGY.ReactivePower.1': 'var',
      'ENERGY.ReactivePower.2': 'var',
      'ENERGY.Frequency': 'Hz',
      'ENERGY.Voltage': 'V',
      'ENERGY.Current.1': 'A',
      'ENERGY.Current.2': 'A',
    });
    // The unit fields are read, not skipped; the local time and texts are.
    expect(result.skipped.map((s) => s.field)).toEqual(['Time', 'ENERGY.TotalStartTime']);
  });

  it('reads temperatures in Celsius and leaves a temperature without TempUnit without a unit', () => {
    expect(
      decodeTasmota('{"DS18B20":{"Id":"01193C4E2DAA","Temperature":21.4},"TempUnit":"C"}').units,
    ).toEqual({ 'DS18B20.Temperature': '°C' });
    expect(decodeTasmota('{"DS18B20":{"Temperature":21.4}}').units).toBeUndefined();
  });

  it('gives STATE its Wi-Fi units, and POWER none', () => {
    const state =
      '{"Time":"2024-03-10T14:22:05","Uptime":"0T01:00:12","UptimeSec":3612,"Heap":26,"SleepMode":"Dynamic","Sleep":50,"LoadAvg":19,"MqttCount":1,"POWER":"ON","Wifi":{"AP":1,"SSId":"home","BSSId":"30:23:03:AA:BB:CC","Channel":6,"Mode":"11n","RSSI":62,"Signal":-69,"LinkCount":1,"Downtime":"0T00:00:03"}}';
    const result = decodeTasmota(state);
    expect(result.readings[0].values).toMatchObject({ POWER: 1, 'Wifi.RSSI': 62 });
    expect(result.units).toEqual({ UptimeSec: 's', 'Wifi.RSSI': '%', 'Wifi.Signal': 'dBm' });
  });
});
